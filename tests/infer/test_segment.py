"""segment: predict + blockwise decode + evaluate into one OME-Zarr."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

from tests.infer.predict_fixtures import tiny_checkpoint, tiny_config, tiny_image, write_image
from volseg.decode import decode
from volseg.decode.postprocess import connected_components
from volseg.errors import VolsegError
from volseg.infer.segment import decoder_settings, metrics_path, segment
from volseg.io import is_complete, open_volume, write_volume
from volseg.io.guard import place
from volseg.metrics.evaluate import evaluate_paths

VOXEL = (10.0, 5.0, 5.0)


@pytest.fixture(name="setup", scope="module")
def setup_fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("segment")
    cfg = tiny_config()
    checkpoint = tiny_checkpoint(root / "run" / "best.pt", cfg)
    image = tiny_image()
    gt = connected_components(image > 150, connectivity=6)
    write_volume(root / "gt.zarr", gt, voxel_size=VOXEL, levels=1)
    return cfg, checkpoint, write_image(root / "image.zarr", image), image, str(root / "gt.zarr")


def test_decoder_settings_from_the_config_then_from_thresholds_json(tmp_path):
    cfg = tiny_config(
        "test.decoding=[{name: contour_distance, kwargs: {binary_threshold: [0.8, 0.6],"
        " contour_threshold: null, min_seed_size: 4}}]"
    )
    checkpoint = tmp_path / "best.pt"
    name, params, source = decoder_settings(cfg, checkpoint)
    assert name == "contour_distance" and source == "config test.decoding[0]"
    assert params == {"binary_threshold": (0.8, 0.6), "contour_threshold": None, "min_seed_size": 4}
    doc = {"decoder": "cc", "params": {"threshold": 0.4, "connectivity": 6}}
    (tmp_path / "thresholds.json").write_text(json.dumps(doc))
    assert decoder_settings(cfg, checkpoint) == (
        "cc",
        {"threshold": 0.4, "connectivity": 6},
        str(tmp_path / "thresholds.json"),
    )


@pytest.mark.slow
def test_segment_writes_image_maps_labels_and_scores(setup, tmp_path):
    cfg, checkpoint, image_path, image, gt = setup
    out = tmp_path / "seg.zarr"
    lines = []
    summary = segment(cfg, checkpoint, image_path, out, gt=gt, say=lines.append)
    root = open_volume(out)
    assert np.array_equal(root.numpy(), image) and root.voxel_size == VOXEL
    maps = open_volume(f"{out}:maps")
    assert maps.shape == (3, *image.shape) and is_complete(out, "maps")
    labels = open_volume(f"{out}:labels/segmentation")
    assert is_complete(out, "labels/segmentation")
    assert labels.voxel_size == VOXEL and labels.dtype == np.uint32
    expected = decode(maps.numpy(), "contour_distance", {})
    assert np.array_equal(labels.numpy() > 0, expected > 0)
    assert summary["instances"] == expected.max()
    assert any("settings from config test.decoding[0]" in line for line in lines)
    written = json.loads(metrics_path(out).read_text())
    assert metrics_path(out) == tmp_path / "seg.metrics.json"
    scores = evaluate_paths(f"{out}:labels/segmentation", gt, min_size=0, thresholds=(0.5, 0.75))
    assert written["adapted_rand_ignore_bg"] == pytest.approx(scores["adapted_rand_ignore_bg"])
    assert written["adapted_rand_with_bg"] == pytest.approx(scores["adapted_rand_with_bg"])
    assert written["voi"] == pytest.approx(scores["voi"])
    assert zarr.open_group(str(out / "labels"), mode="r").attrs["ome"]["labels"] == ["segmentation"]

    # Tuned settings beside the checkpoint win; the finished maps are kept, labels redone.
    threshold = float(np.median(maps.numpy()[0]))
    tuned = {"decoder": "cc", "params": {"threshold": threshold, "connectivity": 6}}
    (checkpoint.parent / "thresholds.json").write_text(json.dumps(tuned))
    try:
        shutil.rmtree(out / "labels" / "segmentation")
        lines.clear()
        again = segment(cfg, checkpoint, image_path, out, gt=gt, say=lines.append)
    finally:
        (checkpoint.parent / "thresholds.json").unlink()
    assert any(line.startswith("maps: kept") for line in lines)
    assert again["decoder"] == "cc" and again["decoder_source"].endswith("thresholds.json")
    labels = open_volume(f"{out}:labels/segmentation").numpy()
    assert labels.max() == again["instances"] > 1
    reference = decode(maps.numpy(), "cc", tuned["params"])
    assert labels.max() == reference.max()
    pairs = np.unique(np.stack([labels.ravel(), reference.ravel()]), axis=1)
    assert pairs.shape[1] == reference.max() + 1  # the same components, renumbered


@pytest.mark.slow
def test_finished_outputs_and_bad_input_are_refused(setup, tmp_path):
    cfg, checkpoint, image_path, image, gt = setup
    out = tmp_path / "seg.zarr"
    with pytest.raises(VolsegError, match="must be a zarr store"):
        segment(cfg, checkpoint, image_path, f"{out}:labels/x", say=lambda _: None)
    bad_gt = tmp_path / "small.zarr"
    write_volume(bad_gt, np.zeros((4, 4, 4), np.uint32), voxel_size=VOXEL)
    with pytest.raises(VolsegError, match="has shape .* but the image is"):
        segment(cfg, checkpoint, image_path, out, gt=str(bad_gt), say=lambda _: None)
    assert not out.exists()
    with pytest.raises(VolsegError, match="give --gt too"):
        segment(cfg, checkpoint, image_path, out, mask=gt, say=lambda _: None)
    segment(cfg, checkpoint, image_path, out, say=lambda _: None)
    with pytest.raises(VolsegError, match="already holds a finished segmentation"):
        segment(cfg, checkpoint, image_path, out, say=lambda _: None)
    other = tiny_checkpoint(tmp_path / "other.pt", cfg, seed=1)
    shutil.rmtree(out / "labels" / "segmentation")
    with pytest.raises(VolsegError, match="holds maps of checkpoint"):
        segment(cfg, other, image_path, out, say=lambda _: None)
    summary = segment(cfg, other, image_path, out, overwrite=True, say=lambda _: None)
    assert is_complete(summary["out"], "labels/segmentation")


@pytest.mark.slow
def test_a_rerun_with_a_relative_image_path_resumes(setup, tmp_path, monkeypatch):
    """Issue 14 row 5: resume by meaning, not by spelling."""
    cfg, checkpoint, image_path, _, _ = setup
    out = tmp_path / "seg.zarr"
    segment(cfg, checkpoint, image_path, out, say=lambda _: None)
    shutil.rmtree(out / "labels" / "segmentation")  # as if killed while decoding
    image = Path(image_path.split(":")[0])
    monkeypatch.chdir(image.parent)
    relative = image_path.replace(str(image), image.name)
    assert relative != image_path and not Path(relative.split(":")[0]).is_absolute()
    lines = []
    segment(cfg, checkpoint, relative, out, say=lines.append)
    assert any(line.startswith("maps: kept") for line in lines), lines
    assert place(relative) == place(image_path)
    assert place("elsewhere.zarr") != place(image_path)


def test_decode_settings_that_blockwise_refuses_fail_before_prediction(setup, tmp_path):
    cfg, checkpoint, image_path, _, _ = setup
    out = tmp_path / "seg.zarr"
    with pytest.raises(VolsegError, match="is larger than block_shape"):
        segment(cfg, checkpoint, image_path, out, block_shape=(8, 16, 16), halo=20,
                say=lambda _: None)  # fmt: skip
    h_minima = tiny_config("test.decoding=[{name: watershed, kwargs: {h: 0.1}}]")
    with pytest.raises(VolsegError, match="h-minima depend on the whole volume"):
        segment(h_minima, checkpoint, image_path, out, say=lambda _: None)
    assert not (out / "maps").exists()
