"""Test-time augmentation: views, un-flipping, activations before ensembling."""

import numpy as np
import pytest
import torch

from volseg.errors import VolsegError
from volseg.infer.sliding import predict_array
from volseg.infer.tta import (
    TTA,
    View,
    activate_channels,
    make_tta,
    predict_views,
    tta_from_config,
)
from volseg.models import build

ALL_FLIPS = [[0], [1], [2], [0, 1], [1, 2], [0, 1, 2]]


class Coordinates(torch.nn.Module):
    """Ignores the image: channel a is the voxel's position along axis a of what it sees."""

    def forward(self, x):
        b, _, *shape = x.shape
        grids = torch.meshgrid(*(torch.arange(n, dtype=torch.float32) for n in shape),
                               indexing="ij")  # fmt: skip
        return torch.stack(grids)[None].expand(b, 3, *shape).clone()


def expected_coordinates(shape, view):
    """What Coordinates predicts for ``view``, mapped back, computed with numpy."""
    seen = np.zeros(shape)
    for a in view.flips:
        seen = np.flip(seen, axis=a)
    seen = np.rot90(seen, view.k, axes=(1, 2))
    ramps = np.stack(np.meshgrid(*(np.arange(n) for n in seen.shape), indexing="ij"))
    ramps = np.rot90(ramps, -view.k, axes=(2, 3))
    for a in view.flips:
        ramps = np.flip(ramps, axis=a + 1)
    return ramps.astype(np.float32)


def test_views_identity_first_deduplicated_and_rotated():
    tta = make_tta([[0], [2], [0], [2, 1]], rotate90=False)
    assert tta.views == (View(), View((0,)), View((2,)), View((1, 2)))
    rotated = make_tta([[1]], rotate90=True, ensemble="max")
    assert len(rotated.views) == 8 and rotated.views[0] == View() and rotated.ensemble == "max"
    assert {v.k for v in rotated.views} == {0, 1, 2, 3}


@pytest.mark.parametrize("bad", [[[3]], [[-1]], [[0, 1, 4]], [["x"]]])
def test_channel_or_unknown_axes_are_refused(bad):
    with pytest.raises(VolsegError, match="spatial axes"):
        make_tta(bad)


def test_bad_ensemble_is_refused():
    with pytest.raises(VolsegError, match="ensemble_mode"):
        make_tta([[0]], ensemble="median")


@pytest.mark.parametrize("view", make_tta(ALL_FLIPS, rotate90=True).views)
def test_invert_undoes_apply(view):
    x = torch.randn(2, 3, 4, 6, 6)
    torch.testing.assert_close(view.invert(view.apply(x)), x, rtol=0, atol=0)


@pytest.mark.parametrize("view", make_tta(ALL_FLIPS, rotate90=True).views)
def test_each_view_is_mapped_back_to_the_original_frame(view):
    x = torch.zeros(1, 1, 4, 6, 6)
    y = view.invert(Coordinates()(view.apply(x)))
    np.testing.assert_array_equal(y[0].numpy(), expected_coordinates((4, 6, 6), view))


def test_non_symmetric_model_gets_the_right_unflip():
    x = torch.zeros(1, 1, 4, 6, 8)
    tta = make_tta([[0], [2]])
    out = predict_views(Coordinates(), x, tta=tta)[0].numpy()
    z, y, xx = np.meshgrid(np.arange(4), np.arange(6), np.arange(8), indexing="ij")
    # mean of identity, z-flip and x-flip views: flipped axes average to the centre
    np.testing.assert_allclose(out[0], (2 * z + (3 - z)) / 3, atol=1e-6)
    np.testing.assert_allclose(out[1], y, atol=1e-6)  # the channel axis is never flipped
    np.testing.assert_allclose(out[2], (2 * xx + (7 - xx)) / 3, atol=1e-6)


def symmetric_conv():
    conv = torch.nn.Conv3d(1, 2, 3, padding=1)
    k = torch.tensor([1.0, 2.0, 1.0])
    kernel = k[:, None, None] * k[None, :, None] * k[None, None, :]
    with torch.no_grad():
        conv.weight.copy_(torch.stack([kernel, -0.5 * kernel])[:, None] / kernel.sum())
        conv.bias.copy_(torch.tensor([0.1, -0.2]))
    return conv.eval()


def test_equivariant_model_gives_the_same_result_with_and_without_tta():
    image = np.random.default_rng(0).random((1, 12, 24, 24), dtype=np.float32)
    acts = ["sigmoid", "tanh"]
    plain = predict_array(symmetric_conv(), image, window=(8, 16, 16), activations=acts)
    for mode in ("mean", "min", "max"):
        tta = make_tta(ALL_FLIPS, rotate90=True, ensemble=mode)
        augmented = predict_array(symmetric_conv(), image, window=(8, 16, 16), activations=acts,
                                  tta=tta)  # fmt: skip
        assert np.abs(augmented - plain).max() <= 1e-6


def test_activations_are_applied_before_ensembling():
    class Logits(torch.nn.Module):  # +4 everywhere if it sees the marker at x = 0, else -2
        def forward(self, x):
            seen = x[:, :1, :1, :1, :1] > 0
            return torch.where(seen, 4.0, -2.0).expand(x.shape[0], 2, *x.shape[2:])

    x = torch.zeros(1, 1, 2, 2, 2)
    x[..., 0] = 1.0  # the x-flipped view sees the marker at the other end
    tta = make_tta([[2]])
    out = predict_views(Logits(), x, tta=tta, activations=["sigmoid", "tanh"])
    s, t = torch.sigmoid(torch.tensor([4.0, -2.0])), torch.tanh(torch.tensor([4.0, -2.0]))
    assert torch.allclose(out[0, 0], s.mean()) and torch.allclose(out[0, 1], t.mean())
    assert not torch.allclose(out[0, 0], torch.sigmoid(torch.tensor(1.0)))  # not sigmoid(mean)
    lowest = predict_views(Logits(), x, tta=TTA(tta.views, "min"), activations=["sigmoid", "tanh"])
    assert torch.allclose(lowest[0, 1], t.min())


def test_activate_channels_per_channel_and_count_checked():
    y = torch.full((1, 3, 1, 1, 1), 0.5)
    out = activate_channels(y, ["sigmoid", "sigmoid", "tanh"])
    assert torch.allclose(out[0, :, 0, 0, 0], torch.tensor([0.6225, 0.6225, 0.4621]), atol=1e-4)
    with pytest.raises(VolsegError, match="2 channel activations"):
        activate_channels(y, ["sigmoid", "tanh"])


def test_deep_supervision_heads_are_dropped():
    cfg = {"architecture": "rsunet", "filters": [4, 8], "out_channels": 2, "deep_supervision": True,
           "norm": "group"}  # fmt: skip
    model = build(cfg)
    x = torch.randn(1, 1, 4, 16, 16)
    model.train()
    assert isinstance(model(x), list)
    out = predict_array(model, x[0].numpy(), window=(4, 16, 16))  # eval mode inside
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(out), model(x)[0])


def test_tta_from_config():
    from volseg.config import loads

    off = loads("{}")
    assert tta_from_config(off.inference.test_time_augmentation) is None
    on = loads("inference: {test_time_augmentation: {enabled: true, flip_axes: [[1, 2]]}}")
    assert tta_from_config(on.inference.test_time_augmentation).views == (View(), View((1, 2)))
