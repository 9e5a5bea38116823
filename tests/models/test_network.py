"""Deep supervision trains every head and every parameter; 2D networks run slice by slice."""

import copy

import pytest
import torch

from volseg import losses
from volseg.models import ARCHITECTURES, build, num_outputs

SMALL = {
    "rsunet": {"filters": [4, 8, 12], "strides": [[1, 2, 2], [2, 2, 2]], "num_2d_levels": 1},
    "mednext": {},
    "monai_basic_unet3d": {"filters": [4, 4, 8, 8, 16, 4]},
    "attention_unet": {"filters": [4, 8, 16]},
    "monai_unet": {"filters": [4, 8, 16], "num_res_units": 1},
    "attention_resunet": {"filters": [4, 8, 16], "num_res_units": 1},
}
TASKS = {
    "out_channels": 3,
    "loss_functions": ["BCEWithLogitsLoss", "DiceLoss", "SmoothL1Loss"],
    "multi_task_config": [
        [0, 1, "binary", [0, 1]],
        [1, 2, "instance_boundary", [0]],
        [2, 3, "instance_edt", [2]],
    ],
}
TARGETS = ["binary", "instance_boundary", "instance_edt"]


def make_targets(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    fg = (torch.rand(shape, generator=g) > 0.6).float()
    bd = (torch.rand(shape, generator=g) > 0.8).float()
    edt = torch.where(fg > 0, torch.rand(shape, generator=g), torch.full(shape, -1.0))
    return torch.stack([fg, bd, edt], dim=1)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_deep_supervision_backward_reaches_every_head_and_parameter(arch):
    cfg = {"architecture": arch, "deep_supervision": True, **SMALL[arch], **TASKS}
    model = build(cfg).train()
    loss = losses.build(cfg, targets=TARGETS)
    x = torch.randn(1, 1, 16, 32, 32)
    outputs = model(x)
    assert isinstance(outputs, list) and len(outputs) == num_outputs(cfg) > 2
    sizes = [o.shape[2:].numel() for o in outputs]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)
    assert all(o.shape[:2] == (1, 3) for o in outputs)
    total, parts = loss(outputs, make_targets((1, 16, 32, 32)))
    total.backward()
    untrained = [
        name
        for name, p in model.named_parameters()
        if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0
    ]
    assert untrained == []
    # eval mode: one tensor, the full-resolution logits
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert isinstance(out, torch.Tensor) and out.shape == (1, 3, 16, 32, 32)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_every_output_has_its_own_head(arch):
    """Each deep-supervision output depends on parameters no other output uses (its head)."""
    cfg = {"architecture": arch, "deep_supervision": True, **SMALL[arch], "out_channels": 2}
    model = build(cfg).train()
    x = torch.randn(1, 1, 16, 32, 32)
    touched = []
    for k in range(num_outputs(cfg)):
        model.zero_grad(set_to_none=True)
        model(x)[k].sum().backward()
        touched.append({name for name, p in model.named_parameters() if p.grad is not None})
    for k, names in enumerate(touched):
        others = set().union(*(t for j, t in enumerate(touched) if j != k))
        assert names - others, f"output {k} has no parameters of its own"


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_2d_network_runs_slice_by_slice(arch):
    if arch == "attention_unet":
        extra = {"strides": [[1, 2, 2], [1, 2, 2]]}
    else:
        extra = {}
    cfg = {"architecture": arch, "spatial_dims": 2, **SMALL[arch], **extra, "out_channels": 2}
    cfg.pop("num_2d_levels", None)
    if arch == "rsunet":
        cfg["strides"] = [[1, 2, 2], [1, 2, 2]]
    model = build(cfg).eval()
    x = torch.randn(2, 1, 3, 32, 32)
    with torch.no_grad():
        whole = model(x)
        slices = torch.cat([model(x[:, :, z : z + 1]) for z in range(3)], dim=2)
    assert whole.shape == (2, 2, 3, 32, 32)
    torch.testing.assert_close(whole, slices, rtol=1e-5, atol=1e-5)
    assert not any(isinstance(m, torch.nn.Conv3d) for m in model.modules())


def test_2d_deep_supervision_keeps_z():
    cfg = {"architecture": "rsunet", "spatial_dims": 2, "filters": [4, 8, 12]}
    model = build({**cfg, "deep_supervision": True}).train()
    shapes = [tuple(o.shape) for o in model(torch.randn(1, 1, 5, 32, 32))]
    assert shapes == [(1, 3, 5, 32, 32), (1, 3, 5, 16, 16), (1, 3, 5, 8, 8)]  # 3: the default


def test_deepcopy_keeps_deep_supervision_working():
    """EMA copies the model; the hooks of the copy must feed the copy's heads."""
    cfg = {"architecture": "monai_unet", "deep_supervision": True, **SMALL["monai_unet"]}
    model = build(cfg).train()
    clone = copy.deepcopy(model)
    with torch.no_grad():
        clone.ds_heads[0].weight.add_(1.0)
    x = torch.randn(1, 1, 16, 32, 32)
    a, b = model(x), clone(x)
    assert len(a) == len(b) == 3
    assert not torch.allclose(a[1], b[1])  # the clone's own head produced its output


FORWARD = {
    "rsunet": {"filters": [4, 8, 12], "strides": [[1, 2, 2], [2, 2, 2]], "num_2d_levels": 1},
    "monai_basic_unet3d": {"filters": [4, 4, 8, 8, 16, 4]},
    "attention_unet": {"filters": [4, 8, 16]},
    "monai_unet": {"filters": [4, 8, 16], "num_res_units": 1},
    "attention_resunet": {"filters": [4, 8, 16], "num_res_units": 1},
    "mednext": {},
}
SLOW = {"mednext"}  # paper width 32 at every level: ~15 s on this CPU for the pass below


@pytest.mark.parametrize(
    "arch", [pytest.param(a, marks=pytest.mark.slow) if a in SLOW else a for a in FORWARD]
)
def test_forward_backward_1x1x32x64x64(arch):
    model = build({"architecture": arch, "out_channels": 3, **FORWARD[arch]}).train()
    x = torch.randn(1, 1, 32, 64, 64, requires_grad=True)
    out = model(x)
    assert out.shape == (1, 3, 32, 64, 64) and out.dtype == torch.float32
    out.square().mean().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
