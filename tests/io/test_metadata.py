import json

import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.io.metadata import (
    offset_from_attrs,
    resolve,
    unit_to_nm,
    volume_attrs,
    voxel_size_from_attrs,
)


@pytest.mark.parametrize(
    ("unit", "nm"),
    [("nanometer", 1.0), ("micrometer", 1000.0), ("angstrom", 0.1), ("µm", 1000.0), ("NM", 1.0)],
)
def test_unit_to_nm(unit, nm):
    assert unit_to_nm(unit, where="x") == nm


def test_unknown_unit_is_an_error():
    with pytest.raises(VolsegError, match="unknown length unit 'parsec' in f.zarr"):
        unit_to_nm("parsec", where="f.zarr")


def test_attribute_order_and_units():
    attrs = {"resolution": [3, 2, 1], "resolution_nm_zyx": np.array([5, 5, 5])}
    assert voxel_size_from_attrs(attrs, ndim=3, where="f") == (
        (5.0, 5.0, 5.0),
        "attrs:resolution_nm_zyx",
    )
    size, source = voxel_size_from_attrs(
        {"element_size_um": [0.04, 0.004, 0.004]}, ndim=3, where="f"
    )
    assert np.allclose(size, (40, 4, 4)) and source == "attrs:element_size_um"
    assert voxel_size_from_attrs({"voxel_size": 8}, ndim=3, where="f") == (
        (8.0,) * 3,
        "attrs:voxel_size",
    )
    # a 4D (c, z, y, x) array may carry one entry per axis: the spatial ones are the last three
    found = voxel_size_from_attrs({"voxel_size_nm": [1, 30, 6, 6]}, ndim=4, where="f")
    assert found == ((30.0, 6.0, 6.0), "attrs:voxel_size_nm")
    assert voxel_size_from_attrs({"other": 1}, ndim=3, where="f") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, 2], "three numbers"),
        ([0, 1, 1], "positive"),
        (["a", 1, 1], "three numbers"),
        ([np.nan, 1, 1], "finite"),
    ],
)
def test_bad_voxel_size_attribute(value, message):
    with pytest.raises(VolsegError, match=f"attribute 'resolution' in f.h5:raw.*{message}"):
        voxel_size_from_attrs({"resolution": value}, ndim=3, where="f.h5:raw")


def test_offset_attributes():
    assert offset_from_attrs({"offset": [1, 2, 3]}, ndim=3, where="f") == (1.0, 2.0, 3.0)
    assert offset_from_attrs({}, ndim=3, where="f") is None


def test_resolve_precedence():
    found = ((5.0, 5.0, 5.0), "ome")
    assert resolve(explicit_size=2, explicit_offset=None, found_size=found, found_offset=None) == (
        (2.0, 2.0, 2.0),
        (0.0, 0.0, 0.0),
        "argument",
    )
    assert resolve(
        explicit_size=None, explicit_offset=(1, 1, 1), found_size=found, found_offset=(9, 9, 9)
    )[1:] == ((1.0, 1.0, 1.0), "ome")
    assert resolve(
        explicit_size=None, explicit_offset=None, found_size=None, found_offset=None
    ) == ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), "default")


def test_volume_attrs_merges_volseg_and_plain_values():
    attrs = {"ome": {}, "a": np.int64(3), "b": np.array([1, 2]), "volseg": json.dumps({"k": 1})}
    assert volume_attrs(attrs) == {"a": 3, "b": [1, 2], "k": 1}
    assert volume_attrs({"volseg": {"channels": ["fg"]}, "s": b"x"}) == {
        "channels": ["fg"],
        "s": "x",
    }
