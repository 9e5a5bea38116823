import numpy as np
import pytest

from tests.napari.conftest import THRESHOLDS
from volseg.decode import contour_distance
from volseg.errors import VolsegError
from volseg.metrics import adapted_rand
from volseg.napari.errors_layer import error_labels
from volseg.napari.redecode import (
    SLIDERS,
    LatestOnly,
    describe_result,
    fixed_params,
    initial_values,
    maps_from_layers,
    pred_sources,
    redecode,
    to_params,
)

PARAMS = {
    "binary_threshold": (0.9, 0.5),
    "contour_threshold": (0.8, None),
    "distance_threshold": (0.5, 0.0),
    "min_seed_size": 4,
    "min_instance_size": 0,
    "channels": (0, 1, 2),
}


def test_initial_values_default_to_the_decoder_signature():
    values = initial_values(None)
    assert set(values) == {s.key for s in SLIDERS}
    assert values["binary_threshold.seed"] == 0.9 and values["contour_threshold.fg"] is None
    assert values["min_seed_size"] == 32


def test_initial_values_and_fixed_params_come_from_thresholds_json():
    values = initial_values(THRESHOLDS)
    assert values["binary_threshold.fg"] == 0.5 and values["min_seed_size"] == 4
    assert fixed_params(THRESHOLDS) == {"mode": "watershed"}
    other = {"decoder": "cc", "params": {"threshold": 0.3}}
    assert initial_values(other) == initial_values(None) and fixed_params(other) == {}


def test_slider_values_round_trip_to_decoder_kwargs():
    params = to_params(initial_values(THRESHOLDS), fixed={"mode": "watershed"})
    assert params == {**PARAMS, "binary_threshold": (0.9, 0.5), "mode": "watershed"}
    off = {**initial_values(None), "contour_threshold.seed": None}
    assert to_params(off, channels=(0, None, 1))["contour_threshold"] is None
    assert to_params(off, channels=(0, None, 1))["channels"] == (0, None, 1)
    with pytest.raises(VolsegError, match="unknown decoder settings"):
        to_params({"binary_treshold.seed": 0.5})


def test_redecode_matches_the_decoder_and_metrics(float_maps, gt):
    result = redecode(float_maps, PARAMS, gt=gt, min_overlap=0)
    expected = contour_distance(float_maps, **PARAMS)
    np.testing.assert_array_equal(result.labels, expected)
    are, precision, recall = adapted_rand(expected, gt)
    got = {k: result.scores[k] for k in ("are_ignore_bg", "precision", "recall")}
    assert got == pytest.approx({"are_ignore_bg": are, "precision": precision, "recall": recall})
    np.testing.assert_array_equal(result.errors, error_labels(expected, gt, min_overlap=0))
    assert result.n_instances == 2 and result.scores["are_ignore_bg"] < 0.05
    assert "2 instances" in describe_result(result) and "ARE" in describe_result(result)


def test_redecode_merges_when_seeds_are_too_permissive(float_maps, gt):
    loose = {**PARAMS, "binary_threshold": (0.5, 0.5), "distance_threshold": None,
             "contour_threshold": None}  # fmt: skip
    result = redecode(float_maps, loose, gt=gt)
    assert result.n_instances == 1 and result.scores["precision"] < 0.6
    assert (result.errors == 1).sum() == (gt > 0).sum()


def test_redecode_without_ground_truth_and_bad_input(float_maps):
    result = redecode(float_maps, PARAMS)
    assert result.scores is None and result.errors is None
    assert "ARE" not in describe_result(result)
    with pytest.raises(VolsegError, match="differ in shape"):
        redecode(float_maps, PARAMS, gt=np.zeros((2, 2, 2), np.uint32))
    with pytest.raises(VolsegError, match="no option `min_seed`"):
        redecode(float_maps, {**PARAMS, "min_seed": 3})


def test_maps_from_viewer_layers(run_dir, float_maps):
    from napari.components import ViewerModel

    from volseg.napari.layers import add_layers
    from volseg.napari.reader import read_paths

    viewer = ViewerModel()
    add_layers(viewer, read_paths([run_dir]))
    maps, channels = maps_from_layers(viewer.layers)
    assert channels == (0, 1, 2) and maps.dtype == np.float32
    np.testing.assert_allclose(maps, float_maps, atol=1 / 255)
    viewer.layers.remove("pred/boundary")
    maps, channels = maps_from_layers(viewer.layers)
    assert channels == (0, None, 1) and maps.shape[0] == 2
    for name in ("pred/binary", "pred/edt"):
        viewer.layers.remove(name)
    with pytest.raises(VolsegError, match="no prediction maps"):
        pred_sources(viewer.layers)


def test_latest_only_keeps_the_newest_request():
    sched = LatestOnly()
    assert sched.request({"n": 1}) == {"n": 1}
    assert sched.request({"n": 2}) is None
    assert sched.request({"n": 3}) is None
    assert sched.finished() == {"n": 3}
    assert sched.running
    assert sched.finished() is None
    assert not sched.running
    assert sched.request({"n": 4}) == {"n": 4}
