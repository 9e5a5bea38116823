import h5py
import numpy as np
import pytest

from tests.napari.conftest import CHANNELS, OFFSET, VOXEL_SIZE
from volseg.errors import VolsegError
from volseg.maps import dequantize, quantize
from volseg.napari.errors_layer import MERGE, error_labels
from volseg.napari.layers import add_layers, find_layer, map_roles
from volseg.napari.reader import get_reader, read_paths

EXPECTED = [
    ("raw", "image", True),
    ("pred/binary", "image", False),
    ("pred/boundary", "image", False),
    ("pred/edt", "image", False),
    ("gt", "labels", False),
    ("seg", "labels", True),
    ("errors", "labels", True),
]


def test_run_folder_layers_in_order_with_geometry(run_dir):
    reader = get_reader(str(run_dir))
    assert callable(reader)
    layers = reader(str(run_dir))
    assert [(m["name"], t, m["visible"]) for _, m, t in layers] == [
        (n, t, v) for n, t, v in EXPECTED
    ]
    for _, meta, _ in layers:
        assert meta["scale"] == VOXEL_SIZE and meta["translate"] == OFFSET
        assert meta["metadata"]["volseg"]["role"] == meta["name"]


def test_maps_are_dequantised_lazily_with_ranges(run_dir, float_maps):
    layers = {m["name"]: (d, m) for d, m, _ in read_paths([run_dir])}
    q, attrs = quantize(float_maps, CHANNELS)
    expected = dequantize(q, attrs)
    for c, name in enumerate(("pred/binary", "pred/boundary", "pred/edt")):
        data, meta = layers[name]
        assert type(data).__name__ == "Array" and data.dtype == np.float32  # dask, not read
        np.testing.assert_allclose(np.asarray(data), expected[c], atol=1e-6)
        assert meta["metadata"]["volseg"]["thresholds"]["params"]["min_seed_size"] == 4
    assert layers["pred/edt"][1]["contrast_limits"] == (-1.0, 1.0)
    assert layers["pred/binary"][1]["contrast_limits"] == (0.0, 1.0)


def test_errors_layer_marks_the_merged_segment(run_dir, gt):
    layers = {m["name"]: d for d, m, _ in read_paths([run_dir])}
    seg = np.asarray(layers["seg"])
    np.testing.assert_array_equal(layers["errors"], error_labels(seg, gt))
    assert set(np.unique(layers["errors"])) == {0, MERGE}
    assert (layers["errors"] == MERGE).sum() == (gt > 0).sum()


def test_explicit_ground_truth_replaces_the_nested_one(run_dir, tmp_path, gt):
    other = np.where(gt == 2, 7, gt).astype(np.uint16)
    with h5py.File(tmp_path / "gt.h5", "w") as f:
        f["ids"] = other
    layers = {m["name"]: d for d, m, _ in read_paths([run_dir], gt=f"{tmp_path / 'gt.h5'}:ids")}
    np.testing.assert_array_equal(np.asarray(layers["gt"]), other)
    assert "gt (gt.h5:ids)" not in layers


def test_several_paths_and_no_errors_option(run_dir):
    paths = [run_dir / "predictions.zarr", run_dir / "labels.zarr", run_dir / "image.zarr"]
    names = [m["name"] for _, m, _ in read_paths(paths, errors=False)]
    assert names == [n for n, _, _ in EXPECTED if n != "errors"]


def test_duplicate_roles_get_their_source_name(run_dir):
    names = [
        m["name"] for _, m, _ in read_paths([run_dir / "labels.zarr", run_dir / "labels.zarr"])
    ]
    assert names == ["seg", "seg (labels.zarr)"]


def test_mismatched_seg_and_gt_is_one_clear_error(run_dir, tmp_path):
    with h5py.File(tmp_path / "small.h5", "w") as f:
        f["ids"] = np.zeros((4, 4, 4), np.uint32)
    with pytest.raises(VolsegError, match="differ in shape"):
        read_paths([run_dir], gt=f"{tmp_path / 'small.h5'}:ids")


@pytest.mark.parametrize(
    ("names", "roles"),
    [
        (["binary", "boundary", "distance"], ["pred/binary", "pred/boundary", "pred/edt"]),
        (["distance", "binary", "contour"], ["pred/edt", "pred/binary", "pred/boundary"]),
        (["b", "c", "d"], ["pred/binary", "pred/boundary", "pred/edt"]),
        (None, ["pred/binary", "pred/boundary", "pred/edt", "pred/c3"]),
        (["x", "binary"], ["pred/x", "pred/binary"]),
        (["binary", "fg"], ["pred/binary", "pred/fg"]),
    ],
)
def test_map_channel_roles(names, roles):
    assert map_roles(names, len(roles)) == roles


def test_reader_answers_none_for_what_it_cannot_read(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "bad.zarr").mkdir()
    (tmp_path / "bad.zarr" / "zarr.json").write_text("{broken")
    (tmp_path / "broken_run").mkdir()
    (tmp_path / "broken_run" / "thresholds.json").write_text("not json")
    for path in ["plain", "notes.txt", "bad.zarr", "missing.zarr", "broken_run"]:
        assert get_reader(str(tmp_path / path)) is None, path
    assert get_reader([]) is None
    assert get_reader([str(tmp_path / "plain")]) is None


def test_layers_load_into_a_viewer_model(run_dir):
    from napari.components import ViewerModel

    viewer = ViewerModel()
    added = add_layers(viewer, read_paths([run_dir]))
    assert [lay.name for lay in viewer.layers] == [n for n, _, _ in EXPECTED]
    assert [type(lay).__name__.lower() for lay in added] == [t for _, t, _ in EXPECTED]
    seg = find_layer(viewer.layers, "seg")
    np.testing.assert_allclose(seg.scale, VOXEL_SIZE)
    np.testing.assert_allclose(seg.translate, OFFSET)
    assert seg.axis_labels == ("z", "y", "x") and [str(u) for u in seg.units] == ["nanometer"] * 3
    errors = find_layer(viewer.layers, "errors")
    assert tuple(errors.get_color(MERGE)[:3]) == pytest.approx((1.0, 48 / 255, 48 / 255), abs=0.01)


def test_npe2_reads_through_the_registered_plugin(run_dir, volseg_pm):
    import npe2

    layers = npe2.read([str(run_dir)], stack=False, plugin_name="volseg")
    assert [m["name"] for _, m, _ in layers] == [n for n, _, _ in EXPECTED]
