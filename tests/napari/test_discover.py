import h5py
import numpy as np
import pytest
import zarr

from tests.napari.conftest import OFFSET, VOXEL_SIZE
from volseg.errors import VolsegError
from volseg.io import open_volume, write_volume
from volseg.napari import discover as disc
from volseg.napari.discover import classify, discover, item_of, labels_role


@pytest.mark.parametrize(
    ("name", "default", "role"),
    [
        ("labels", "seg", "seg"),
        ("gt", "seg", "gt"),
        ("groundtruth", "seg", "gt"),
        ("neuron_gt", "seg", "gt"),
        ("cells", "gt", "gt"),
        ("segmentation", "gt", "seg"),
        ("pred_v2", "gt", "seg"),
    ],
)
def test_labels_role_from_names(name, default, role):
    assert labels_role(name, default=default) == role


def test_classify_by_kind_then_shape_and_dtype(tmp_path):
    cases = {
        "f.zarr": (np.zeros((2, 3, 4), np.float32), "raw"),
        "u8.zarr": (np.zeros((2, 3, 4), np.uint8), "raw"),
        "u32.zarr": (np.zeros((2, 3, 4), np.uint32), "labels"),
        "i64.zarr": (np.zeros((2, 3, 4), np.int64), "labels"),
        "b.zarr": (np.zeros((2, 3, 4), bool), "mask"),
        "m.zarr": (np.zeros((3, 2, 3, 4), np.float32), "maps"),
    }
    for name, (data, kind) in cases.items():
        zarr.save_array(str(tmp_path / name), data)  # plain arrays: no volseg kind recorded
        assert classify(open_volume(tmp_path / name)) == kind, name
    write_volume(tmp_path / "k.zarr", np.zeros((2, 3, 4), np.uint8), voxel_size=1, kind="labels")
    assert classify(open_volume(tmp_path / "k.zarr")) == "labels"
    zarr.save_array(str(tmp_path / "2d.zarr"), np.zeros((3, 4), np.uint8))
    with pytest.raises(VolsegError, match=r"\(z, y, x\) volumes"):
        classify(open_volume(tmp_path / "2d.zarr"))


def test_small_integer_volumes_named_like_labels_are_labels(tmp_path, gt):
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f["raw"] = gt.astype(np.uint16)
        f["instances"] = gt.astype(np.uint16)
        f["neuron_gt"] = gt.astype(np.uint8)
    roles = [item_of(f"{tmp_path / 'v.h5'}:{k}").role for k in ("raw", "instances", "neuron_gt")]
    assert roles == ["raw", "seg", "gt"]
    assert classify(open_volume(f"{tmp_path / 'v.h5'}:raw"), "labels") == "labels"


def test_image_store_gives_raw_and_nested_ground_truth(run_dir):
    found = discover(run_dir / "image.zarr")
    assert [i.role for i in found.items] == ["raw", "gt"]
    raw, gt = found.items
    assert raw.voxel_size == VOXEL_SIZE and raw.offset == OFFSET
    assert gt.source.endswith("image.zarr:labels/cells")
    assert isinstance(gt.levels[0].wrapped, zarr.Array) and len(gt.levels) == 1  # reads checked
    assert found.thresholds is None


def test_run_folder_gives_every_store_and_thresholds(run_dir):
    found = discover(run_dir)
    assert sorted(i.role for i in found.items) == ["gt", "maps", "raw", "seg"]
    assert found.thresholds["decoder"] == "contour_distance"
    assert found.thresholds["params"]["binary_threshold"] == (0.9, 0.5)
    maps = next(i for i in found.items if i.role == "maps")
    assert maps.shape == (3, 24, 40, 40) and maps.attrs["volseg_maps"]["dtype"] == "uint8"


def test_store_names_pick_seg_or_gt(tmp_path, gt):
    write_volume(tmp_path / "groundtruth.zarr", gt, voxel_size=VOXEL_SIZE, kind="labels")
    write_volume(tmp_path / "out.zarr", gt, voxel_size=VOXEL_SIZE, kind="labels")
    assert [i.role for i in discover(tmp_path / "groundtruth.zarr").items] == ["gt"]
    assert [i.role for i in discover(tmp_path / "out.zarr").items] == ["seg"]


def test_big_pyramids_become_multiscale(tmp_path, gt, monkeypatch):
    write_volume(tmp_path / "l.zarr", gt, voxel_size=VOXEL_SIZE, kind="labels", levels=2)
    assert len(discover(tmp_path / "l.zarr").items[0].levels) == 1
    monkeypatch.setattr(disc, "MULTISCALE_MIN_VOXELS", 0)
    levels = discover(tmp_path / "l.zarr").items[0].levels
    assert len(levels) == 2 and levels[1].shape[1] < levels[0].shape[1]


def test_h5_volumes_are_wrapped_lazily(tmp_path, gt):
    import dask.array as da

    with h5py.File(tmp_path / "v.h5", "w") as f:
        f.create_dataset("seg", data=gt, chunks=(8, 8, 8))
    item = item_of(f"{tmp_path / 'v.h5'}:seg", role="gt")
    assert item.role == "gt" and isinstance(item.levels[0], da.Array)
    np.testing.assert_array_equal(item.levels[0].compute(), gt)


def test_forced_ground_truth_must_be_integer_labels(tmp_path):
    write_volume(tmp_path / "f.zarr", np.zeros((2, 3, 4), np.float32), voxel_size=1)
    with pytest.raises(VolsegError, match="gt must be"):
        item_of(str(tmp_path / "f.zarr"), role="gt")


def test_unusable_paths_are_one_clear_error(tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(VolsegError, match="neither a zarr store nor a volseg run folder"):
        discover(tmp_path / "plain")
    zarr.open_group(str(tmp_path / "g.zarr"), mode="w").create_array(
        "a", shape=(2, 2, 2), dtype="u1"
    )
    with pytest.raises(VolsegError, match="without OME-Zarr multiscales"):
        discover(tmp_path / "g.zarr")
    (tmp_path / "bad.zarr").mkdir()
    (tmp_path / "bad.zarr" / "zarr.json").write_text("{not json")
    with pytest.raises(VolsegError, match="not a valid zarr store"):
        discover(tmp_path / "bad.zarr")
    with pytest.raises(VolsegError, match="does not exist"):
        discover(tmp_path / "missing.zarr")
