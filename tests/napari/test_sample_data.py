from pathlib import Path

import h5py
import numpy as np
import pytest

from volseg.data.synth import vesicles
from volseg.errors import VolsegError
from volseg.metrics import adapted_rand
from volseg.napari.errors_layer import error_labels
from volseg.napari.sample_data import (
    VESICLE_SHAPE,
    VESICLE_VOXEL_SIZE,
    lucchi_sample,
    shared_data_dir,
    vesicles_sample,
)

LUCCHI = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "lucchi_pp_crops"


def test_vesicle_sample_has_every_layer_and_a_good_segmentation():
    layers = {m["name"]: (d, m, t) for d, m, t in vesicles_sample()}
    assert list(layers) == [
        "raw", "pred/binary", "pred/boundary", "pred/edt", "gt", "seg", "errors",
    ]  # fmt: skip
    raw, gt, _ = vesicles(shape=VESICLE_SHAPE, voxel_size=VESICLE_VOXEL_SIZE, seed=0)
    np.testing.assert_array_equal(layers["raw"][0], raw)
    np.testing.assert_array_equal(layers["gt"][0], gt)
    seg = layers["seg"][0]
    assert adapted_rand(seg, gt)[0] < 0.05
    np.testing.assert_array_equal(layers["errors"][0], error_labels(seg, gt))
    for data, meta, _ in layers.values():
        assert data.shape == VESICLE_SHAPE and meta["scale"] == VESICLE_VOXEL_SIZE
    assert 0.0 <= layers["pred/binary"][0].min() and layers["pred/edt"][0].min() >= -1.0


def test_lucchi_sample_reads_the_shared_crop():
    assert shared_data_dir().resolve() == LUCCHI.parent.resolve()
    layers = {m["name"]: (d, m, t) for d, m, t in lucchi_sample()}
    assert list(layers) == ["raw", "gt"]
    with h5py.File(LUCCHI / "train_crop.h5", "r") as f:
        np.testing.assert_array_equal(layers["raw"][0][:5], f["raw"][:5])
        np.testing.assert_array_equal(layers["gt"][0][-5:], f["instances"][-5:])
    gt, meta, kind = layers["gt"]
    assert kind == "labels" and gt.dtype == np.uint32 and gt.max() == 21
    assert meta["visible"] and meta["scale"] == (5.0, 5.0, 5.0)


def test_lucchi_sample_without_the_data_is_one_clear_error(tmp_path):
    with pytest.raises(VolsegError, match="the Lucchi.. crop is not at"):
        lucchi_sample(tmp_path)


def test_sample_commands_run_through_npe2(volseg_pm):
    samples = dict(volseg_pm.iter_sample_data())["volseg"]
    assert {s.key for s in samples} == {"vesicles", "lucchi"}
    vesicle = next(s for s in samples if s.key == "vesicles")
    assert [m["name"] for _, m, _ in vesicle.open()][:2] == ["raw", "pred/binary"]
