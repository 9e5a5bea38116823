"""``predict``: checkpoint + config + image -> finished maps zarr, equal to a whole-volume run."""

import numpy as np
import pytest

from volseg.checkpoint import build_model_from_checkpoint
from volseg.data.normalize import image_stats, normalize
from volseg.errors import VolsegError
from volseg.infer import predict, predict_array
from volseg.infer.rescale import make_rescale
from volseg.io import is_complete, open_volume, write_volume
from volseg.io.write_zarr import set_complete
from volseg.maps import dequantize

from .predict_fixtures import tiny_checkpoint, tiny_config, tiny_image, write_image


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    cfg = tiny_config()
    ckpt = tiny_checkpoint(tmp / "model.pt", cfg)
    image = tiny_image()
    return cfg, ckpt, image, write_image(tmp / "image.zarr", image)


def reference(cfg, ckpt, image, *, window=(8, 32, 32)):
    """Whole-volume prediction: normalise like training, then one in-memory sliding window."""
    model = build_model_from_checkpoint(ckpt)
    t = cfg.data.image_transform
    stats = image_stats(image, low=t.clip_percentile_low, high=t.clip_percentile_high)
    x = normalize(image, stats, mode=t.normalize)
    return predict_array(model, x, window=window, overlap=0.5, sw_batch_size=2,
                         activations=["sigmoid", "sigmoid", "tanh"])  # fmt: skip


def test_maps_equal_a_whole_volume_prediction(setup, tmp_path):
    cfg, ckpt, image, path = setup
    maps = predict(cfg, ckpt, path, tmp_path / "pred.zarr")
    assert maps.shape == (3, *image.shape) and maps.dtype == np.float32
    assert maps.voxel_size == (10.0, 5.0, 5.0)
    assert is_complete(tmp_path / "pred.zarr")
    assert maps.attrs["channels"] == ["binary", "instance_boundary", "instance_edt"]
    assert maps.attrs["checkpoint"] == str(ckpt.resolve())
    assert maps.attrs["volseg_maps"]["dtype"] == "float32"
    assert np.abs(maps.numpy() - reference(cfg, ckpt, image)).max() <= 1e-5


def test_uint8_maps_are_quantised_with_their_record(setup, tmp_path):
    cfg, ckpt, image, path = setup
    cfg8 = tiny_config("inference.save_prediction.dtype=uint8")
    maps = predict(cfg8, ckpt, path, tmp_path / "pred8.zarr")
    assert maps.dtype == np.uint8
    values = dequantize(maps.numpy(), maps.attrs)
    ref = reference(cfg, ckpt, image)
    step = np.array([1 / 255, 1 / 255, 2 / 255])[:, None, None, None]
    assert (np.abs(values - ref) <= step / 2 + 1e-6).all()


def test_train_resolution_resamples_in_and_back(setup, tmp_path):
    _, _, image, _ = setup
    cfg = tiny_config("data.train_resolution=[10,10,10]")  # data is 10 x 5 x 5 nm
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    path = write_image(tmp_path / "image.zarr", image)
    maps = predict(cfg, ckpt, path, tmp_path / "pred.zarr", block_shape=(8, 32, 32))
    rescale = make_rescale(image.shape, (10, 5, 5), (10, 10, 10))
    assert rescale.area and rescale.net_shape == (20, 25, 35)
    t = cfg.data.image_transform
    stats = image_stats(image, low=t.clip_percentile_low, high=t.clip_percentile_high)
    full = tuple(slice(0, n) for n in image.shape)
    net_full = tuple(slice(0, n) for n in rescale.net_shape)
    x = rescale.image_to_net(normalize(image, stats, mode=t.normalize)[None], full, net_full)
    model = build_model_from_checkpoint(ckpt)
    net = predict_array(model, x, window=(8, 32, 32), overlap=0.5,
                        activations=["sigmoid", "sigmoid", "tanh"])  # fmt: skip
    expected = rescale.maps_to_data(net, net_full, full)
    assert maps.shape == (3, *image.shape)
    assert np.abs(maps.numpy() - expected).max() <= 1e-5
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".volseg")]  # scratch gone


def test_two_dimensional_network(tmp_path):
    cfg = tiny_config("model.spatial_dims=2", "model.input_size=[1,32,32]")
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    image = tiny_image((5, 40, 36))
    maps = predict(cfg, ckpt, write_image(tmp_path / "i.zarr", image), tmp_path / "p.zarr")
    assert np.abs(maps.numpy() - reference(cfg, ckpt, image, window=(1, 32, 32))).max() <= 1e-5


def test_checkpoint_not_matching_the_config_is_refused(setup, tmp_path):
    _, ckpt, _, path = setup
    other = tiny_config("model.filters=[4,16]")
    with pytest.raises(VolsegError, match=r"does not match the config: model\.filters=\[4, 8\]"):
        predict(other, ckpt, path, tmp_path / "p.zarr")
    assert not (tmp_path / "p.zarr").exists()


def test_wrong_number_of_channels_is_refused(setup, tmp_path):
    cfg, ckpt, image, _ = setup
    two = write_volume(tmp_path / "two.zarr", np.stack([image, image]), kind="maps",
                       voxel_size=(10, 5, 5), levels=1)  # fmt: skip
    with pytest.raises(VolsegError, match=r"2 channel\(s\) but the model takes"):
        predict(cfg, ckpt, two.path, tmp_path / "p.zarr")


def test_window_must_suit_the_network(setup, tmp_path):
    _, ckpt, _, path = setup
    cfg = tiny_config("inference.sliding_window.window_size=[8,31,32]")
    with pytest.raises(VolsegError, match="window_size .* divisible"):
        predict(cfg, ckpt, path, tmp_path / "p.zarr")


def test_existing_outputs(setup, tmp_path):
    cfg, ckpt, _, path = setup
    out = tmp_path / "pred.zarr"
    first = predict(cfg, ckpt, path, out).numpy()
    with pytest.raises(VolsegError, match="already holds finished maps"):
        predict(cfg, ckpt, path, out)
    set_complete(out, "", False)  # as if a run had crashed after its last block
    lines = []
    resumed = predict(cfg, ckpt, path, out, say=lines.append)
    assert lines == ["prediction blocks: 0 computed, 1 reused"]
    np.testing.assert_array_equal(resumed.numpy(), first)
    again = predict(cfg, ckpt, path, out, overwrite=True)
    assert is_complete(out)
    np.testing.assert_array_equal(again.numpy(), first)


def test_unwritable_output_is_a_clear_error(setup, tmp_path):
    cfg, ckpt, _, path = setup
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(VolsegError, match="cannot write the output"):
        predict(cfg, ckpt, path, blocker / "pred.zarr")


def test_multi_channel_image(tmp_path):
    cfg = tiny_config("model.in_channels=2")
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    image = np.stack([tiny_image((9, 33, 40)), tiny_image((9, 33, 40), seed=1)])
    vol = write_volume(tmp_path / "i.zarr", image, kind="maps", voxel_size=(10, 5, 5), levels=1)
    maps = predict(cfg, ckpt, vol.path, tmp_path / "p.zarr")
    model = build_model_from_checkpoint(ckpt)
    t = cfg.data.image_transform
    stats = image_stats(image, low=t.clip_percentile_low, high=t.clip_percentile_high)
    ref = predict_array(model, normalize(image, stats, mode="zscore"), window=(8, 32, 32),
                        overlap=0.5, activations=["sigmoid", "sigmoid", "tanh"])  # fmt: skip
    assert np.abs(open_volume(tmp_path / "p.zarr").numpy() - ref).max() <= 1e-5
    assert maps.shape == (3, 9, 33, 40)


def test_background_writer_keeps_order_and_reports_errors():
    from volseg.infer.predict import BackgroundWriter

    target = np.zeros((1, 4, 1, 1), np.float32)
    with BackgroundWriter(target, lambda m: m + 1, depth=1) as write:
        for i in range(4):  # overlapping regions: the last write wins
            write((slice(0, i + 1), slice(0, 1), slice(0, 1)), np.full((1, i + 1, 1, 1), i, "f4"))
    np.testing.assert_array_equal(target[0, :, 0, 0], [4, 4, 4, 4])

    class Broken:
        def __setitem__(self, key, value):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with BackgroundWriter(Broken(), lambda m: m) as write:
            write((slice(0, 1),) * 3, np.zeros((1, 1, 1, 1), np.float32))
