"""The Segment widget's logic without Qt: a tiny random model saved as a run directory."""

import json

import numpy as np
import pytest

from tests.infer.predict_fixtures import CC, tiny_checkpoint, tiny_config, tiny_image
from volseg.config.loader import to_yaml
from volseg.errors import VolsegError
from volseg.napari import segment_model as sm

VOXEL_SIZE = (10.0, 5.0, 5.0)


def make_model_run(root, *, thresholds=None):
    """root/run: config.yaml (tiny rsunet, cc decoder) and checkpoints/best.pt."""
    run = root / "run"
    cfg = tiny_config(CC)
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text(to_yaml(cfg))
    tiny_checkpoint(run / "checkpoints" / "best.pt", cfg)
    if thresholds is not None:
        (run / "checkpoints" / "thresholds.json").write_text(json.dumps(thresholds))
    return run


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    return make_model_run(tmp_path_factory.mktemp("segment_model"))


def drain(gen):
    """Run a generator to the end: its yields and its return value."""
    yields = []
    while True:
        try:
            yields.append(next(gen))
        except StopIteration as stop:
            return yields, stop.value


def test_segment_image_reports_every_window_then_decodes(model_run):
    image = tiny_image((12, 40, 48))
    yields, result = drain(sm.segment_image(model_run, image, VOXEL_SIZE, offset=(0, 10, 10)))
    predict_steps = [p for p in yields if p.step == "predict"]
    assert predict_steps[0].done == 0 and predict_steps[-1].done == predict_steps[-1].total > 1
    assert [p.done for p in predict_steps] == list(range(len(predict_steps)))
    assert yields[-1] == sm.Progress("decode", 0, 1)
    assert result.maps.shape == (3, 12, 40, 48) and result.maps.dtype == np.float32
    assert result.labels.shape == image.shape and result.labels.dtype.kind == "u"
    assert result.decoder == "cc" and "test.decoding[0]" in result.settings_source
    # the same as the decoder on the same maps: the widget adds nothing of its own
    from volseg.decode.registry import decode

    np.testing.assert_array_equal(result.labels, decode(result.maps, "cc", result.params))
    assert result.n_instances == len(np.unique(result.labels)) - 1


def test_thresholds_json_beside_the_checkpoint_sets_the_decoder(tmp_path):
    tuned = {"decoder": "cc", "params": {"threshold": 0.9, "connectivity": 26}}
    run = make_model_run(tmp_path, thresholds=tuned)
    _, result = drain(sm.segment_image(run, tiny_image((8, 32, 32)), VOXEL_SIZE))
    assert result.params == tuned["params"] and "thresholds.json" in result.settings_source


def test_closing_the_generator_stops_the_prediction_thread(model_run):
    import threading

    gen = sm.segment_image(model_run, tiny_image((16, 64, 64)), VOXEL_SIZE)
    assert next(gen).step == "predict"
    gen.close()
    assert not [t for t in threading.enumerate() if t.name == "volseg-segment"]


def test_a_folder_without_a_checkpoint_is_refused_with_the_missing_file(tmp_path):
    (tmp_path / "config.yaml").write_text("{}")
    with pytest.raises(VolsegError, match=r"checkpoints/best.pt is missing"):
        sm.check_run_dir(tmp_path)
    with pytest.raises(VolsegError, match="needs a \\(z, y, x\\) volume"):
        sm.image_array(np.zeros((4, 4)))


def test_voxel_size_comes_from_the_layer_scale_else_the_training_data():
    cfg = tiny_config("data.voxel_size=[30,8,8]")
    assert sm.default_voxel_size((30.0, 4.0, 4.0), cfg)[0] == (30.0, 4.0, 4.0)
    size, why = sm.default_voxel_size((1.0, 1.0, 1.0), cfg)
    assert size == (30.0, 8.0, 8.0) and "data.voxel_size" in why
    with pytest.raises(VolsegError, match="enter the voxel size"):
        sm.default_voxel_size((1, 1, 1), tiny_config())


def test_no_zoo_package_lists_no_shipped_models(monkeypatch):
    import sys

    import volseg

    monkeypatch.setitem(sys.modules, "volseg.zoo", None)  # import fails
    monkeypatch.delattr(volseg, "zoo", raising=False)  # (imported by an earlier test)
    assert sm.shipped_models() == {}


def test_show_result_adds_maps_seg_and_errors_placed_like_the_image(model_run):
    from napari.components import ViewerModel

    from volseg.napari.layers import find_layer, role_of
    from volseg.napari.redecode import pred_sources

    image = tiny_image((8, 32, 32))
    viewer = ViewerModel()
    layer = viewer.add_image(image, name="em", scale=VOXEL_SIZE, translate=(0, 10, 20))
    gt = (image > 150).astype(np.uint32)
    viewer.add_labels(gt, name="gt", scale=VOXEL_SIZE, translate=(0, 10, 20))
    assert sm.image_layers(viewer.layers) == [layer]
    _, result = drain(sm.segment_image(model_run, image, VOXEL_SIZE))
    for _ in range(2):  # a second run replaces the first one's layers
        sm.show_result(viewer, result, layer)
    names = [lay.name for lay in viewer.layers]
    assert names == ["em", "gt", "pred/binary", "pred/boundary", "pred/edt", "seg", "errors"]
    seg = find_layer(viewer.layers, "seg")
    np.testing.assert_array_equal(seg.data, result.labels)
    assert tuple(seg.scale) == VOXEL_SIZE and tuple(seg.translate) == (0, 10, 20)
    assert not find_layer(viewer.layers, "pred/binary").visible
    assert role_of(find_layer(viewer.layers, "errors")) == "errors"
    # the re-decode widget finds the new maps, with the decoder settings that made them
    arrays, _ = pred_sources(viewer.layers)
    assert len(arrays) == 3
    settings = find_layer(viewer.layers, "pred/binary").metadata["volseg"]["thresholds"]
    assert settings["decoder"] == "cc"
    assert sm.image_layers(viewer.layers) == [layer]  # maps are not offered as images
