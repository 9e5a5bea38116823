"""Affinity maps in napari: one probability-range layer per offset, offsets in the metadata."""

import numpy as np

from tests.napari.conftest import OFFSET, VOXEL_SIZE
from volseg.io import write_volume
from volseg.maps import add_offsets, quantize
from volseg.napari.layers import add_layers, map_roles
from volseg.napari.reader import read_paths

NEAREST = [[-1, 0, 0], [0, -1, 0], [0, 0, -1]]


def test_affinity_channels_get_their_own_roles():
    names = ["binary", "affinity", "affinity", "affinity"]
    assert map_roles(names, 4) == [
        "pred/binary", "pred/affinity_0", "pred/affinity_1", "pred/affinity_2"
    ]  # fmt: skip
    assert map_roles(["affinity"] * 3, 3) == [f"pred/affinity_{k}" for k in range(3)]


def test_affinity_maps_load_into_a_viewer_model(tmp_path, gt):
    from napari.components import ViewerModel

    maps = np.random.default_rng(0).random((3, *gt.shape)).astype(np.float32)
    q, attrs = quantize(maps, ["affinity"] * 3)
    attrs = add_offsets(attrs, NEAREST, VOXEL_SIZE)
    path = tmp_path / "predictions.zarr"
    write_volume(path, q, kind="maps", attrs=attrs, voxel_size=VOXEL_SIZE, offset=OFFSET)
    layers = read_paths([path])
    assert [m["name"] for _, m, _ in layers] == [f"pred/affinity_{k}" for k in range(3)]
    for k, (data, meta, kind) in enumerate(layers):
        assert kind == "image" and meta["contrast_limits"] == (0.0, 1.0)
        assert meta["metadata"]["volseg"]["offset"] == NEAREST[k]
        np.testing.assert_allclose(np.asarray(data), maps[k], atol=1 / 255)
    viewer = ViewerModel()
    add_layers(viewer, layers)
    assert [lay.name for lay in viewer.layers] == [f"pred/affinity_{k}" for k in range(3)]


def test_offsets_of_reads_what_add_offsets_wrote():
    from volseg.maps import describe, offsets_of

    assert offsets_of(describe(["binary"])) is None and offsets_of({}) is None
    attrs = add_offsets(describe(["affinity"] * 3), NEAREST, (30.0, 8.0, 8.0))
    assert offsets_of(attrs) == NEAREST
    assert attrs["volseg_maps"]["offsets_voxel_size"] == [30.0, 8.0, 8.0]
