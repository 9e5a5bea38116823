"""MultiTaskLoss: masks reach every loss, -1 per target kind, routing by name, deep supervision."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from volseg import losses
from volseg.errors import VolsegError
from volseg.losses import LOSSES

SHAPE = (2, 1, 4, 8, 8)
PROBABILITY_ONLY = {"DiceLoss", "WeightedBCEWithLogitsLoss", "BCEWithLogitsLoss"}
PROBABILITY_ONLY |= {"FocalLoss", "TverskyLoss"}


def single_task(loss_name, target="binary", **extra):
    kwargs = {"tanh": True} if target == "instance_edt" and loss_name in {"MSELoss"} else {}
    return {
        "out_channels": 1,
        "loss_functions": [loss_name],
        "loss_kwargs": [kwargs],
        "multi_task_config": [[0, 1, target, [0]]],
        **extra,
    }


def data(target_kind, seed=0, shape=SHAPE):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g, dtype=torch.float64) * 2
    if target_kind == "binary":
        target = (torch.rand(shape, generator=g) > 0.5).double()
        target[torch.rand(shape, generator=g) > 0.8] = -1.0  # ignored by value
    else:
        inside = torch.rand(shape, generator=g) > 0.5
        target = torch.where(inside, torch.rand(shape, generator=g), torch.full(shape, -1.0))
        target = target.double()
    mask = torch.rand((shape[0], *shape[2:]), generator=g) > 0.3
    return logits, target, mask


def loss_and_grad(loss, logits, target, mask):
    logits = logits.clone().requires_grad_(True)
    total, _ = loss(logits, target, mask)
    total.backward()
    return total.detach(), logits.grad


def cases():
    for name in LOSSES:
        yield name, "binary"
        if name not in PROBABILITY_ONLY:
            yield name, "instance_edt"


@pytest.mark.parametrize(("name", "target_kind"), list(cases()))
def test_masked_voxels_change_neither_loss_nor_gradient(name, target_kind):
    loss = losses.build(single_task(name, target_kind))
    logits, target, mask = data(target_kind)
    invalid = ~mask[:, None].expand_as(target)
    if target_kind == "binary":
        invalid = invalid | (target == -1)
    assert 0 < invalid.double().mean() < 1
    value, grad = loss_and_grad(loss, logits, target, mask)
    assert value > 0 and torch.isfinite(grad).all()
    assert torch.equal(grad[invalid], torch.zeros_like(grad[invalid]))
    g = torch.Generator().manual_seed(9)
    logits2 = torch.where(invalid, torch.randn(SHAPE, generator=g, dtype=torch.float64) * 9, logits)
    noise = torch.rand(SHAPE, generator=g, dtype=torch.float64)
    target2 = torch.where(invalid & ~(target == -1), noise, target)
    value2, grad2 = loss_and_grad(loss, logits2, target2, mask)
    torch.testing.assert_close(value2, value, rtol=1e-12, atol=0)
    torch.testing.assert_close(grad2, grad, rtol=1e-12, atol=0)


def test_bce_term_equals_torch_with_manual_masking():
    loss = losses.build(single_task("BCEWithLogitsLoss"))
    logits, target, mask = data("binary", seed=3)
    keep = mask[:, None].expand_as(target) & (target != -1)
    ref = F.binary_cross_entropy_with_logits(logits[keep], target[keep])
    total, parts = loss(logits, target, mask)
    torch.testing.assert_close(total, ref)
    assert set(parts) == {"binary/BCEWithLogitsLoss"}


def test_edt_minus_one_is_a_value_not_ignore():
    loss = losses.build(single_task("MSELoss", "instance_edt"))
    logits, target, _ = data("instance_edt", seed=4)
    background = target == -1
    mask = torch.ones((SHAPE[0], *SHAPE[2:]), dtype=torch.bool)
    ref = ((torch.tanh(logits) - target) ** 2).mean()
    torch.testing.assert_close(loss(logits, target, mask)[0], ref)
    _, grad = loss_and_grad(loss, logits, target, mask)
    assert (grad[background] != 0).all()


def test_targets_are_found_by_name():
    cfg = {
        "out_channels": 2,
        "loss_functions": ["BCEWithLogitsLoss", "SmoothL1Loss"],
        "loss_weights": [1.0, 2.0],
        "multi_task_config": [[0, 1, "binary", [0]], [1, 2, "instance_edt", [1]]],
    }
    loss = losses.build(cfg, targets=[{"name": "instance_edt"}, {"name": "binary"}])
    logits = torch.randn(1, 2, 2, 4, 4, dtype=torch.float64)
    fg = (torch.rand(1, 1, 2, 4, 4) > 0.5).double()
    edt = torch.where(fg > 0, torch.rand(1, 1, 2, 4, 4).double(), -torch.ones(1, 1, 2, 4, 4))
    total, parts = loss(logits, torch.cat([edt, fg], dim=1))
    bce = F.binary_cross_entropy_with_logits(logits[:, :1], fg)
    sl1 = F.smooth_l1_loss(torch.tanh(logits[:, 1:]), edt)
    torch.testing.assert_close(parts["binary/BCEWithLogitsLoss"], bce)
    torch.testing.assert_close(parts["instance_edt/SmoothL1Loss"], sl1)
    torch.testing.assert_close(total, bce + 2.0 * sl1)


def test_deep_supervision_weights_and_masks_at_every_scale():
    cfg = {
        "architecture": "rsunet",
        "filters": [4, 4, 4],
        "deep_supervision": True,
        "deep_supervision_weights": [1.0, 0.5, 0.25],
        **single_task("BCEWithLogitsLoss"),
    }
    loss = losses.build(cfg)
    g = torch.Generator().manual_seed(5)
    target = (torch.rand(1, 1, 8, 8, 8, generator=g) > 0.5).double()
    mask = torch.ones(1, 8, 8, 8, dtype=torch.bool)
    mask[:, :2, :3] = False  # invalidates some blocks at every scale, leaves others valid
    outs = [torch.randn(1, 1, s, s, s, generator=g, dtype=torch.float64) for s in (8, 4, 2)]
    total, parts = loss(outs, target, mask)
    expected = 0.0
    for w, out in zip([1.0, 0.5, 0.25], outs, strict=True):
        f = 8 // out.shape[-1]
        blocks = (1, 1, *[8 // f, f] * 3)
        valid = mask[:, None].double().reshape(blocks).amin(dim=(3, 5, 7))
        tgt = (target * mask[:, None]).reshape(blocks).mean(dim=(3, 5, 7))
        keep = valid > 0
        assert 0 < keep.double().mean() < 1
        expected += w * F.binary_cross_entropy_with_logits(out[keep], tgt[keep])
    torch.testing.assert_close(total, expected)
    # eval mode: the single full-resolution output counts with the first weight
    torch.testing.assert_close(
        loss(outs[0], target, mask)[0], 1.0 * loss(outs[:1], target, mask)[0]
    )


def test_weight_map_reaches_weighted_bce():
    loss = losses.build(single_task("WeightedBCEWithLogitsLoss"))
    logits, target, mask = data("binary", seed=6)
    weights = torch.rand(SHAPE, dtype=torch.float64) * 3
    plain = loss(logits, target, mask)[0]
    weighted = loss(logits, target, mask, weight_map=weights)[0]
    keep = mask[:, None] & (target != -1)
    ce = F.binary_cross_entropy_with_logits(logits, target.clamp(min=0), reduction="none")
    torch.testing.assert_close(weighted, (ce * weights)[keep].sum() / keep.sum())
    assert not torch.isclose(plain, weighted)


@pytest.mark.parametrize(
    ("outputs", "targets", "mask", "match"),
    [
        ([(1, 2, 4, 4, 4)], (1, 1, 4, 4, 4), None, "output has 2 channels"),
        ([(1, 1, 4, 4, 4)], (1, 2, 4, 4, 4), None, "expects 1 target channel"),
        ([(1, 1, 4, 4, 4)], (1, 1, 4, 4, 2), None, "does not match the full-resolution"),
        ([(1, 1, 4, 4, 4), (1, 1, 2, 2, 2)], (1, 1, 4, 4, 4), None, "returned 2 output"),
        ([(1, 1, 4, 4, 4)], (1, 1, 4, 4, 4), (1, 4, 4), "mask shape"),
    ],
)
def test_shape_errors_are_one_sentence(outputs, targets, mask, match):
    loss = losses.build(single_task("DiceLoss"))
    outs = [torch.zeros(s) for s in outputs]
    m = None if mask is None else torch.ones(mask, dtype=torch.bool)
    with pytest.raises(VolsegError, match=match):
        loss(outs if len(outs) > 1 else outs[0], torch.zeros(targets), m)


def test_no_valid_voxel_is_zero():
    loss = losses.build(single_task("DiceLoss"))
    total, _ = loss(torch.zeros(SHAPE), torch.zeros(SHAPE), torch.zeros(SHAPE, dtype=torch.bool))
    assert float(total) == pytest.approx(0.0) and np.isfinite(float(total))
