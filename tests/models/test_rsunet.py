"""RSUNet: parameter count by hand, and the structure each setting must produce."""

import pytest
import torch
from torch import nn

from volseg.models import build
from volseg.models.blocks import ResBlock
from volseg.models.summary import count_parameters


def rsunet_count(filters, *, cin, cout, k, heads):
    """Parameters of an RSUNet with batch norm and cubic kernels, counted by hand."""
    conv = lambda a, b, kk=k: a * b * kk**3 + b  # noqa: E731
    norm = lambda c: 2 * c  # noqa: E731
    res = lambda c: 2 * norm(c) + 2 * conv(c, c)  # noqa: E731
    n = conv(cin, filters[0]) + res(filters[0])
    for a, b in zip(filters, filters[1:], strict=False):
        n += norm(a) + conv(a, b) + res(b)  # encoder entry + block
        n += norm(b) + conv(b, a, 1)  # up: interpolate, then pre-activated 1x1 conv
        n += norm(a) + conv(a, a) + res(a)  # decoder
    return n + sum(norm(f) + conv(f, cout, 1) for f in filters[:heads])


@pytest.mark.parametrize("ds", [False, True])
def test_rsunet_parameter_count(ds):
    filters = [4, 8, 12, 16]
    model = build(
        {"architecture": "rsunet", "filters": filters, "out_channels": 3, "deep_supervision": ds}
    )
    expected = rsunet_count(filters, cin=1, cout=3, k=3, heads=len(filters) if ds else 1)
    assert count_parameters(model) == (expected, expected)


def rsunet(**kw):
    return build({"architecture": "rsunet", "filters": [4, 8, 12], **kw}).net


def test_2d_levels_use_in_plane_kernels_and_pooling():
    net = rsunet(num_2d_levels=1, kernel_size=5)
    kernels = {m.kernel_size for m in net.encoders[0].modules() if isinstance(m, nn.Conv3d)}
    assert kernels == {(1, 5, 5)} and net.stem.kernel_size == (1, 5, 5)
    deeper = {m.kernel_size for m in net.encoders[1].modules() if isinstance(m, nn.Conv3d)}
    assert deeper == {(5, 5, 5)}
    assert [p.kernel_size for p in net.pools] == [(1, 2, 2), (2, 2, 2)]


def test_explicit_strides_win_and_skips_are_added():
    net = rsunet(strides=[[1, 3, 3], [2, 1, 1]])
    assert [p.kernel_size for p in net.pools] == [(1, 3, 3), (2, 1, 1)]
    x = torch.randn(1, 1, 2, 9, 9)
    assert net.eval()(x).shape == (1, 3, 2, 9, 9)  # out_channels 3, the default
    # additive skips: every decoder entry sees the level width, not twice it
    assert [d[0][2].in_channels for d in net.decoders] == [4, 8]


def test_upsampling_never_uses_overlapping_transposed_convolutions():
    smooth = rsunet()
    assert not any(isinstance(m, nn.ConvTranspose3d) for m in smooth.modules())
    assert all(isinstance(up[0], nn.Upsample) and up[0].mode == "trilinear" for up in smooth.ups)
    deconv = rsunet(upsample="deconv", strides=[[1, 2, 2], [2, 2, 2]])
    ts = [m for m in deconv.modules() if isinstance(m, nn.ConvTranspose3d)]
    assert [(t.kernel_size, t.stride) for t in ts] == [((1, 2, 2), (1, 2, 2)), ((2, 2, 2),) * 2]


def test_dropout_norm_and_activation_reach_every_block():
    net = rsunet(dropout=0.3, norm="instance", activation="prelu")
    blocks = [m for m in net.modules() if isinstance(m, ResBlock)]
    assert len(blocks) == 5  # three encoder levels, two decoder levels
    for block in blocks:
        kinds = [type(m) for m in block.body]
        assert kinds.count(nn.Dropout3d) == 1 and kinds.count(nn.InstanceNorm3d) == 2
        assert kinds.count(nn.PReLU) == 2
    assert all(m.p == 0.3 for m in net.modules() if isinstance(m, nn.Dropout3d))


def test_dropout_is_active_only_in_training():
    net = rsunet(dropout=0.5)
    x = torch.randn(1, 1, 4, 8, 8)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    net.train()
    assert not torch.allclose(net(x), net(x))
