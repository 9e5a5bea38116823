"""Every output folder volseg writes opens with the image, the maps, the segmentation and,
where known, the ground truth and its errors layer."""

import shutil

import numpy as np
import pytest

from tests.infer.predict_fixtures import CC, command_files
from tests.napari.conftest import make_demo_folder
from volseg.napari.discover import discover
from volseg.napari.layers import build_layers

ALL = ["raw", "pred/binary", "pred/boundary", "pred/edt", "gt", "seg", "errors"]


def names_and_visible(found):
    layers = build_layers(found)
    return [m["name"] for _, m, _ in layers], {m["name"]: m["visible"] for _, m, _ in layers}


def test_demo_folder_opens_with_image_maps_seg_gt_and_errors(tmp_path, gt, float_maps):
    out = make_demo_folder(tmp_path, gt, float_maps)
    names, visible = names_and_visible(discover(out))
    assert names == ALL
    assert visible["raw"] and visible["seg"] and visible["errors"]
    assert not visible["pred/binary"] and not visible["gt"]


@pytest.fixture(scope="module")
def tested(tmp_path_factory):
    """A ``volseg test`` folder (one volume, with ground truth) from a tiny random model."""
    from volseg.config import load
    from volseg.infer.testset import run_test

    root = tmp_path_factory.mktemp("view_test")
    root, config, checkpoint, image = command_files(root, root / "run" / "checkpoints" / "best.pt")
    data = [f"test.data.test_image=[{image}]", f"test.data.test_label=[{root / 'gt.zarr'}]"]
    cfg = load(config, [CC, *data, "inference.block_shape=[16,64,64]"])
    result = run_test(cfg, checkpoint, say=lambda _: None)
    return root, root / "run" / "test", result


@pytest.mark.slow
def test_segment_store_opens_with_its_recorded_image_and_ground_truth(tested):
    root, test_dir, _ = tested
    found = discover(test_dir / "image.zarr")  # a `volseg segment` store
    roles = {i.role: i.source for i in found.items}
    assert roles["gt"] == str(root / "gt.zarr") and roles["maps"].endswith("image.zarr:maps")
    assert names_and_visible(found)[0] == ALL


@pytest.mark.slow
def test_test_folder_opens_like_its_stores(tested):
    _, test_dir, _ = tested
    assert names_and_visible(discover(test_dir))[0] == ALL


@pytest.mark.slow
def test_a_moved_ground_truth_is_a_note_not_a_failure(tested, tmp_path):
    root, test_dir, _ = tested
    store = tmp_path / "seg.zarr"
    shutil.copytree(test_dir / "image.zarr", store)
    shutil.move(root / "gt.zarr", tmp_path / "moved-gt.zarr")
    try:
        found = discover(store)
    finally:
        shutil.move(tmp_path / "moved-gt.zarr", root / "gt.zarr")
    assert [i.role for i in found.items] == ["raw", "maps", "seg"]
    (note,) = found.notes
    assert "records its gt as" in note and "gt.zarr" in note
    assert np.asarray(found.items[0].levels[0]).shape == (20, 50, 70)
