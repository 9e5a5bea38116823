import dask.array as da
import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.io import Volume
from volseg.io.source import is_dask, prepare


@pytest.mark.parametrize(
    ("data", "kind", "stored"),
    [
        (np.zeros((2, 2, 2), np.uint8), "image", np.uint8),
        (np.zeros((2, 2, 2), np.float64), "image", np.float64),
        (np.zeros((2, 2, 2), np.uint16), "labels", np.uint32),
        (np.zeros((2, 2, 2), np.int32), "labels", np.uint32),
        (np.full((2, 2, 2), 2**32 - 1, np.uint64), "labels", np.uint32),
        (np.full((2, 2, 2), 2**32, np.int64), "labels", np.uint64),
        (np.zeros((2, 2, 2), bool), "labels", np.uint32),
        (np.zeros((2, 2, 2), np.uint8), "mask", np.bool_),
        (np.zeros((3, 2, 2, 2), np.float64), "maps", np.float32),
        (np.zeros((3, 2, 2, 2), np.uint8), "maps", np.uint8),
    ],
)
def test_stored_dtypes(data, kind, stored):
    assert prepare(data, kind=kind, where="o").dtype == stored


def test_64bit_labels_are_scanned_lazily(tmp_path):
    arr = zarr.create_array(tmp_path / "l.zarr", shape=(4, 4, 4), dtype="i8", chunks=(2, 2, 2))
    arr[...] = 5
    arr[3, 3, 3] = 2**40
    assert prepare(arr, kind="labels", where="o").dtype == np.uint64
    lazy = da.from_array(np.full((4, 4, 4), 7, np.uint64), chunks=2)
    assert is_dask(lazy) and not is_dask(arr)
    assert prepare(lazy, kind="labels", where="o").dtype == np.uint32


@pytest.mark.parametrize(
    ("data", "kind", "message"),
    [
        (
            np.zeros((2, 2, 2), np.float32),
            "labels",
            r"labels must be integers, got float32 in out.zarr",
        ),
        (
            np.full((2, 2, 2), -1, np.int64),
            "labels",
            "labels must be non-negative, found -1 in out.zarr",
        ),
        (np.zeros((2, 2, 2), np.float32), "mask", "masks must be bool or integer, got float32"),
        (np.zeros((3, 2, 2, 2), np.int16), "maps", "maps must be float32 or uint8"),
        (np.zeros((2, 2, 2), np.complex64), "image", "images must hold real numbers"),
        (
            np.zeros((2, 2)),
            "image",
            r"image for out.zarr must be 3D \(z, y, x\), got shape \(2, 2\)",
        ),
        (np.zeros((2, 2, 2)), "maps", r"maps for out.zarr must be 4D \(c, z, y, x\)"),
        (np.zeros((0, 2, 2)), "image", "cannot write an empty array"),
        (np.zeros((2, 2, 2)), "picture", "kind must be one of"),
    ],
)
def test_rejected_inputs(data, kind, message):
    with pytest.raises(VolsegError, match=message):
        prepare(data, kind=kind, where="out.zarr")


def test_convert_checks_each_block():
    src = prepare(np.zeros((2, 2, 2), np.int16), kind="labels", where="o")
    np.testing.assert_array_equal(src.convert(np.array([1, 2], np.int16)), [1, 2])
    assert src.convert(np.array([1], np.int16)).dtype == np.uint32
    with pytest.raises(VolsegError, match="found -3"):
        src.convert(np.array([1, -3], np.int16))
    mask = prepare(np.zeros((2, 2, 2), np.uint8), kind="mask", where="o")
    np.testing.assert_array_equal(mask.convert(np.array([0, 255, 1])), [False, True, True])


def test_volume_input_keeps_its_attrs():
    src = prepare(Volume(np.zeros((2, 2, 2)), attrs={"a": 1}), kind="image", where="o")
    assert src.volume is not None and src.attrs == {"a": 1}
    assert prepare([[[1, 2]]], kind="image", where="o").shape == (1, 1, 2)
