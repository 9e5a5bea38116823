"""The exported network: volseg's numbers on the package's axes, traced copies that take any
valid size."""

import warnings

import pytest
import torch

from volseg.export.network import VolsegExport
from volseg.models import apply_activations, build

NET_2D = {"architecture": "monai_unet", "spatial_dims": 2, "filters": [4, 8, 16], "strides": [2, 2],
          "out_channels": 1, "num_res_units": 1}  # fmt: skip
NET_3D = {"architecture": "rsunet", "filters": [4, 8], "norm": "group", "out_channels": 3,
          "loss_functions": ["BCEWithLogitsLoss", "DiceLoss", "MSELoss"],
          "multi_task_config": [[0, 1, "binary", [0]], [1, 2, "instance_boundary", [1]],
                                [2, 3, "instance_edt", [2]]]}  # fmt: skip


def same_weights(model_cfg, activations):
    torch.manual_seed(0)
    net = build(model_cfg).eval()
    exported = VolsegExport(model_cfg, activations).eval()
    exported.net.load_state_dict(net.state_dict())
    return net, exported


def test_2d_network_takes_one_slice_and_returns_logits():
    net, exported = same_weights(NET_2D, [])
    x = torch.randn(2, 1, 32, 48)
    with torch.no_grad():
        assert torch.equal(exported(x), net(x[:, :, None])[:, :, 0])  # volseg sees one z-slice
    assert exported(x).shape == (2, 1, 32, 48)


def test_3d_network_applies_each_channels_activation():
    net, exported = same_weights(NET_3D, ["sigmoid", "sigmoid", "tanh"])
    x = torch.randn(1, 1, 8, 16, 16)
    with torch.no_grad():
        expected = apply_activations(net(x), NET_3D)
        torch.testing.assert_close(exported(x), expected, rtol=0, atol=0)


@pytest.mark.parametrize(("cfg", "trace_shape", "other_shape"), [
    (NET_2D, (1, 1, 32, 32), (3, 1, 16, 64)),
    (NET_3D, (1, 1, 8, 16, 16), (2, 1, 16, 32, 8)),
])  # fmt: skip
def test_traced_network_takes_other_sizes_and_batches(cfg, trace_shape, other_shape):
    acts = ["sigmoid", "sigmoid", "tanh"] if cfg["out_channels"] == 3 else []
    _, exported = same_weights(cfg, acts)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(exported, torch.randn(*trace_shape))
        x = torch.randn(*other_shape)
        torch.testing.assert_close(traced(x), exported(x), rtol=1e-5, atol=1e-6)


def test_deep_supervision_exports_the_full_resolution_output():
    cfg = {**NET_3D, "deep_supervision": True}
    net, exported = same_weights(cfg, ["sigmoid", "sigmoid", "tanh"])
    x = torch.randn(1, 1, 8, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(exported(x), apply_activations(net(x), cfg), rtol=0, atol=0)


def test_activations_must_fit_the_channels():
    with pytest.raises(ValueError, match="2 activations for 3 output channels"):
        VolsegExport(NET_3D, ["sigmoid", "tanh"])
    with pytest.raises(ValueError, match="unknown activation 'relu'"):
        VolsegExport(NET_2D, ["relu"])
