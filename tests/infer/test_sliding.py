"""Sliding window: MONAI's grid and weights, equality with MONAI, streaming in blocks."""

import numpy as np
import pytest
import torch
from monai.inferers import sliding_window_inference

from volseg.errors import VolsegError
from volseg.infer.carry import CarryStore
from volseg.infer.grid import make_grid
from volseg.infer.sliding import SlidingSettings, predict_array, predict_streamed


def small_net(out_channels=3):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv3d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv3d(4, out_channels, 3, padding=1),
    ).eval()


def monai(net, image, window, **kw):
    x = torch.from_numpy(image)[None]
    with torch.no_grad():
        out = sliding_window_inference(x, window, predictor=lambda t: torch.sigmoid(net(t)), **kw)
    return out[0].numpy()


@pytest.mark.parametrize(
    ("shape", "window", "overlap", "padding"),
    [
        ((20, 50, 45), (8, 16, 16), 0.25, "reflect"),
        ((5, 40, 33), (8, 16, 16), 0.5, "replicate"),
        ((6, 12, 30), (8, 16, 8), 0.0, "constant"),
    ],
)
@pytest.mark.parametrize("batch", [1, 3])
def test_predict_array_matches_monai(shape, window, overlap, padding, batch):
    net = small_net()
    image = np.random.default_rng(1).random((1, *shape), dtype=np.float32)
    ref = monai(net, image, window, sw_batch_size=batch, overlap=overlap, mode="gaussian",
                padding_mode=padding)  # fmt: skip
    ours = predict_array(net, image, window=window, overlap=overlap, sw_batch_size=batch,
                         padding_mode=padding, activations=["sigmoid"] * 3)  # fmt: skip
    assert ours.shape == ref.shape and ours.dtype == np.float32
    assert np.abs(ours - ref).max() <= 1e-5


def test_constant_blending_matches_monai():
    net = small_net()
    image = np.random.default_rng(2).random((1, 13, 30, 30), dtype=np.float32)
    ref = monai(net, image, (8, 16, 16), sw_batch_size=2, overlap=0.4, mode="constant")
    ours = predict_array(net, image[0], window=(8, 16, 16), overlap=0.4, blending="constant",
                         activations=["sigmoid"] * 3, padding_mode="constant")  # fmt: skip
    assert np.abs(ours - ref).max() <= 1e-5


def stream(net, image, settings, block_shape, carry=None):
    grid = make_grid(image.shape[1:], settings.window, settings.overlap)
    out = np.zeros((3, *image.shape[1:]), np.float32)
    hits = np.zeros(image.shape[1:], np.int32)

    def write(region, maps):
        out[(slice(None), *region)] = maps
        hits[region] += 1

    predict_streamed(net, lambda r: image[(slice(None), *r)], write, grid=grid,
                     settings=settings, block_shape=block_shape, carry=carry)  # fmt: skip
    return out, hits


@pytest.mark.parametrize("block_shape", [(8, 16, 16), (16, 24, 40), (1, 1, 1)])
def test_streamed_blocks_equal_whole_volume(block_shape):
    net = small_net()
    image = np.random.default_rng(3).random((1, 21, 47, 52), dtype=np.float32)
    settings = SlidingSettings(window=(8, 16, 16), overlap=0.5, activations=("sigmoid",) * 3)
    whole = predict_array(net, image, window=(8, 16, 16), overlap=0.5, activations=["sigmoid"] * 3)
    out, hits = stream(net, image, settings, block_shape)
    assert (hits == 1).all()  # every voxel written exactly once
    assert np.abs(out - whole).max() <= 1e-5


def test_streamed_spills_to_disk_with_the_same_result(tmp_path):
    net = small_net()
    image = np.random.default_rng(4).random((1, 20, 40, 40), dtype=np.float32)
    settings = SlidingSettings(window=(8, 16, 16), overlap=0.25, activations=("sigmoid",) * 3)
    memory, _ = stream(net, image, settings, (8, 16, 16))
    carry = CarryStore(budget_bytes=0, spill_dir=tmp_path)
    spilled, hits = stream(net, image, settings, (8, 16, 16), carry=carry)
    assert carry.spilled_bytes > 0 and carry.peak_memory_bytes == 0
    assert (hits == 1).all()
    np.testing.assert_array_equal(spilled, memory)
    assert list(tmp_path.iterdir()) == []  # the spill directory is removed


def test_streamed_runs_every_window_once():
    calls = []

    class Counting(torch.nn.Module):
        def forward(self, x):
            calls.append(x.shape[0])
            return x.repeat(1, 3, 1, 1, 1)

    image = np.random.default_rng(5).random((1, 30, 60, 60), dtype=np.float32)
    settings = SlidingSettings(window=(8, 16, 16), overlap=0.25)
    stream(Counting(), image, settings, (8, 16, 16))
    assert sum(calls) == make_grid((30, 60, 60), (8, 16, 16), 0.25).size


class BatchSized(torch.nn.Module):
    """Maps that depend on the batch size, as CPU convolution rounding does (exaggerated)."""

    def forward(self, x):
        return x.repeat(1, 3, 1, 1, 1) * (1 + 0.01 * x.shape[0])


@pytest.mark.parametrize("batch", [2, 4, 5])
@pytest.mark.parametrize("block_shape", [(8, 16, 16), (9, 40, 20), None])
def test_batch_sizes_follow_monai_whatever_the_blocks(batch, block_shape):
    image = np.random.default_rng(7).random((1, 17, 40, 37), dtype=np.float32)  # 27 windows
    ref = monai(BatchSized(), image, (8, 16, 16), sw_batch_size=batch, overlap=0.25,
                mode="gaussian")  # fmt: skip
    settings = SlidingSettings(
        window=(8, 16, 16), sw_batch_size=batch, activations=("sigmoid",) * 3
    )
    assert make_grid(image.shape[1:], (8, 16, 16), 0.25).size % batch  # a partial last batch
    out = stream(BatchSized(), image, settings, block_shape)[0]
    assert np.abs(out - ref).max() <= 1e-6


def test_image_must_be_channel_first_3d():
    with pytest.raises(VolsegError, match=r"\(c, z, y, x\)"):
        predict_array(small_net(), np.zeros((1, 1, 4, 4, 4), np.float32), window=(4, 4, 4))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "constant"])
def test_short_axes_are_padded_like_numpy(mode):
    net = small_net()
    image = np.random.default_rng(6).random((1, 2, 10, 16), dtype=np.float32)
    ours = predict_array(net, image, window=(8, 16, 16), padding_mode=mode,
                         activations=["sigmoid"] * 3)  # fmt: skip
    np_mode = {"replicate": "edge"}.get(mode, mode)
    padded = np.pad(image, [(0, 0), (3, 3), (3, 3), (0, 0)], mode=np_mode)
    one_window = predict_array(net, padded, window=(8, 16, 16), activations=["sigmoid"] * 3)
    np.testing.assert_allclose(ours, one_window[:, 3:5, 3:13], atol=1e-6)


def test_model_changing_the_window_shape_is_refused():
    class Shrink(torch.nn.Module):
        def forward(self, x):
            return x[:, :, 1:]

    with pytest.raises(VolsegError, match="same-size outputs"):
        predict_array(Shrink(), np.zeros((1, 8, 8, 8), np.float32), window=(4, 4, 4))
