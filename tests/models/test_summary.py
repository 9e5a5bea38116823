"""Receptive field: empirical (input gradient) vs hand-counted and analytic values."""

import pytest
import torch
from torch import nn

from volseg.models import VolsegNet, build
from volseg.models.summary import (
    count_parameters,
    layer_table,
    narrow_twin,
    receptive_field,
    rsunet_receptive_field,
    summarize,
)


def wrap(net, dims=3):
    return VolsegNet(
        net, architecture="probe", in_channels=1, out_channels=1, spatial_dims=dims,
        divisor=(1,) * dims, deep_supervision=False,
    )  # fmt: skip


def test_conv_stack_field_is_the_kernel_sum():
    net = nn.Sequential(
        nn.Conv3d(1, 2, (1, 3, 5), padding=(0, 1, 2)),
        nn.InstanceNorm3d(2),  # couples every voxel through its statistics unless removed
        nn.ReLU(),
        nn.Conv3d(2, 1, (3, 3, 3), padding=1),
    )
    rf = receptive_field(wrap(net), (9, 15, 15))
    assert rf.size == (3, 5, 7) and rf.truncated == (False, False, False)


def test_pool_and_nearest_upsample_by_hand():
    net = nn.Sequential(
        nn.Conv3d(1, 1, 3, padding=1),
        nn.MaxPool3d(2),
        nn.Conv3d(1, 1, 3, padding=1),
        nn.Upsample(scale_factor=2, mode="nearest"),
    )
    # coarse unit i sees pooled i-1..i+1 = fine 2i-2..2i+3, widened by the first conv
    assert receptive_field(wrap(net), (16, 16, 16)).size == (8, 8, 8)


def test_truncation_is_reported():
    net = nn.Sequential(nn.Conv3d(1, 1, 7, padding=3))
    rf = receptive_field(wrap(net), (4, 20, 20))
    assert rf.size == (4, 7, 7) and rf.truncated == (True, False, False)


@pytest.mark.parametrize(
    ("kw", "shape"),
    [
        ({"filters": [2, 2]}, (32, 32, 32)),
        ({"filters": [2, 2], "upsample": "deconv", "norm": "instance"}, (32, 32, 32)),
        (
            {"filters": [2, 2, 2], "strides": [[1, 2, 2], [2, 3, 3]], "num_2d_levels": 1},
            (32, 96, 96),
        ),
        ({"filters": [2, 2], "kernel_size": [1, 3, 5], "strides": [[1, 2, 2]]}, (4, 32, 64)),
        ({"filters": [2, 2, 2], "spatial_dims": 2, "strides": [2, 3]}, (1, 96, 96)),
    ],
)
def test_rsunet_analytic_equals_empirical(kw, shape):
    model = build({"architecture": "rsunet", **kw})
    rf = receptive_field(model, shape)
    assert not any(rf.truncated)
    assert rf.size == rsunet_receptive_field(model.net, shape)
    assert max(rf.size) > 25


def test_kernel_size_widens_the_field():
    small = build({"architecture": "rsunet", "filters": [2, 2]})
    large = build({"architecture": "rsunet", "filters": [2, 2], "kernel_size": 5})
    a = rsunet_receptive_field(small.net, (32, 32, 32))
    b = rsunet_receptive_field(large.net, (32, 32, 32))
    assert all(y > x for x, y in zip(a, b, strict=True))


def test_summarize_text():
    model = build({"architecture": "rsunet", "filters": [2, 4], "deep_supervision": True})
    text = summarize(model, input_shape=(16, 32, 32))
    total = sum(p.numel() for p in model.parameters())
    assert f"parameters: {total:,} ({total:,} trainable)" in text
    assert "(1, 3, 16, 32, 32), (1, 3, 8, 16, 16)" in text
    assert "receptive field (z, y, x), empirical" in text and "analytic" in text
    assert model.training  # summarize works on a copy and leaves the model alone
    assert int(model.net.heads[0].norm.num_batches_tracked) == 0
    assert torch.equal(model.net.heads[0].norm.running_mean, torch.zeros(2))


def test_layer_table_sums_to_total():
    model = build({"architecture": "rsunet", "filters": [4, 8]})
    rows = layer_table(model, depth=2)
    top = [n for name, _, n in rows if name.count(".") == 1]
    assert sum(top) == count_parameters(model)[0]
    assert ("net.stem", "Conv3d", 4 * 27 + 4) in rows


@pytest.mark.parametrize(
    "cfg",
    [
        {"architecture": "monai_unet", "filters": [8, 16, 32], "num_res_units": 1},
        {"architecture": "attention_unet", "filters": [8, 16], "kernel_size": [1, 3, 3]},
        {"architecture": "attention_resunet", "filters": [8, 16], "strides": [[1, 2, 2]]},
        {"architecture": "mednext", "spatial_dims": 2},
    ],
)
def test_narrow_twin_has_the_same_field(cfg):
    model, twin = build(cfg), narrow_twin(cfg)
    assert count_parameters(twin)[0] < count_parameters(model)[0]
    assert receptive_field(twin, (16, 32, 32)) == receptive_field(model, (16, 32, 32))
