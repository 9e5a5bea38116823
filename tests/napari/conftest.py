"""Tiny volseg outputs on disk: an OME-Zarr image with nested ground truth, uint8 maps,
a segmentation that merges the two balls, and a thresholds.json, all in one run folder."""

import json

import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.io import write_volume
from volseg.maps import quantize
from volseg.napari import prefer_supported_qt

# Before anything imports qtpy (which then records its choice in QT_API for child processes
# too): the napari tests run on the binding `volseg view` uses.
prefer_supported_qt()

VOXEL_SIZE = (30.0, 8.0, 8.0)
OFFSET = (60.0, 16.0, 8.0)
CHANNELS = ["binary", "boundary", "distance"]
THRESHOLDS = {
    "decoder": "contour_distance",
    "params": {
        "binary_threshold": [0.9, 0.5],
        "contour_threshold": [0.8, None],
        "distance_threshold": [0.5, 0.0],
        "min_seed_size": 4,
        "min_instance_size": 0,
        "mode": "watershed",
    },
}


@pytest.fixture
def gt():
    return ball_labels()


@pytest.fixture
def float_maps(gt):
    return oracle_maps(gt)


def make_run_dir(root, gt, maps):
    """root/run: image.zarr (raw + labels/cells), predictions.zarr (uint8), labels.zarr (a
    segmentation merging both balls) and thresholds.json."""
    run = root / "run"
    raw = (np.random.default_rng(0).random(gt.shape) * 100 + 50 * (gt > 0)).astype(np.uint8)
    kw = {"voxel_size": VOXEL_SIZE, "offset": OFFSET}
    write_volume(run / "image.zarr", raw, kind="image", **kw)
    write_volume(run / "image.zarr", gt, kind="labels", key="labels/cells", **kw)
    q, attrs = quantize(maps, CHANNELS)
    write_volume(run / "predictions.zarr", q, kind="maps", attrs=attrs, **kw)
    merged = (gt > 0).astype(np.uint32)  # one segment over both balls: a false merge
    write_volume(run / "labels.zarr", merged, kind="labels", **kw)
    (run / "thresholds.json").write_text(json.dumps(THRESHOLDS))
    return run


@pytest.fixture
def run_dir(tmp_path, gt, float_maps):
    return make_run_dir(tmp_path, gt, float_maps)


@pytest.fixture
def volseg_pm(monkeypatch):
    """A fresh npe2 plugin manager holding the installed volseg manifest (found through the
    ``napari.manifest`` entry point), used as the global instance for the test."""
    import npe2

    pm = npe2.PluginManager()
    pm.register(npe2.PluginManifest.from_distribution("volseg"))
    monkeypatch.setattr(npe2.PluginManager, "instance", classmethod(lambda cls: pm))
    return pm


def make_demo_folder(root, gt, maps):
    """root/demo_out as ``volseg demo`` leaves it, with the demo's own writers: image.zarr
    (the held-out image, ground truth nested as ``gt``), predictions.zarr (uint8 maps, as
    ``volseg.infer.predict`` stores them), labels.zarr (a segmentation merging both balls)
    and report.md."""
    from volseg.demo import MAPS_STORE, write_image_and_truth, write_segmentation

    out = root / "demo_out"
    raw = (np.random.default_rng(0).random(gt.shape) * 100 + 50 * (gt > 0)).astype(np.uint8)
    write_image_and_truth(out, raw, gt, VOXEL_SIZE)
    q, attrs = quantize(maps, CHANNELS)
    write_volume(out / MAPS_STORE, q, kind="maps", attrs=attrs, voxel_size=VOXEL_SIZE)
    write_segmentation(out, (gt > 0).astype(np.uint32), VOXEL_SIZE)
    (out / "report.md").write_text("# volseg demo\n")
    return out
