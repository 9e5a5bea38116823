"""Patch validation: soft Dice against a numpy reference, loss averaging, train mode restored."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from volseg.losses import build as build_loss
from volseg.train.validate import SoftDice, patch_validation

MODEL = {
    "architecture": "rsunet",
    "out_channels": 2,
    "loss_functions": ["DiceLoss", "SmoothL1Loss"],
    "loss_weights": [1.0, 1.0],
    "loss_kwargs": [{}, {"tanh": True}],
    "multi_task_config": [[0, 1, "binary", [0]], [1, 2, "instance_edt", [1]]],
}


class Fixed(nn.Module):
    """Returns stored logits for each batch in turn (and records its mode)."""

    def __init__(self, logits: list[torch.Tensor]) -> None:
        super().__init__()
        self.logits, self.i, self.modes = logits, 0, []
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        out = self.logits[self.i]
        self.i += 1
        return out


def batches(rng: np.random.Generator, n: int):
    out = []
    for _ in range(n):
        binary = (rng.random((2, 1, 3, 4, 4)) > 0.5).astype(np.float32)
        binary[0, 0, 0, 0, :2] = -1  # ignored voxels
        edt = rng.uniform(-1, 1, (2, 1, 3, 4, 4)).astype(np.float32)
        mask = (rng.random((2, 1, 3, 4, 4)) > 0.2).astype(np.float32)
        out.append(
            {
                "image": torch.zeros(2, 1, 3, 4, 4),
                "targets": torch.from_numpy(np.concatenate([binary, edt], 1)),
                "mask": torch.from_numpy(mask),
            }
        )
    return out


def test_soft_dice_and_loss_match_reference() -> None:
    rng = np.random.default_rng(0)
    loss = build_loss(MODEL, targets=["binary", "instance_edt"])
    data = batches(rng, 3)
    logits = [torch.from_numpy(rng.normal(size=(2, 2, 3, 4, 4)).astype(np.float32)) for _ in data]
    net = Fixed(logits).train()
    values, example = patch_validation(net, loss, data, device=torch.device("cpu"))
    inter = total = 0.0
    for lg, b in zip(logits, data, strict=True):
        p = 1 / (1 + np.exp(-lg[:, 0].numpy().astype(np.float64)))
        t = b["targets"][:, 0].numpy()
        valid = (t != -1) & (b["mask"][:, 0].numpy() > 0)
        inter += (p[valid] * t[valid]).sum()
        total += p[valid].sum() + t[valid].sum()
    assert np.isclose(values["val/patch_soft_dice"], 2 * inter / total, rtol=1e-5)
    want = np.mean(
        [float(loss(lg, b["targets"], b["mask"])[0]) for lg, b in zip(logits, data, strict=True)]
    )
    assert np.isclose(values["val/patch_loss"], want, rtol=1e-6)
    dice_term = np.mean(
        [
            float(loss(lg, b["targets"], b["mask"])[1]["binary/DiceLoss"])
            for lg, b in zip(logits, data, strict=True)
        ]
    )
    assert np.isclose(values["val/patch_loss/binary/DiceLoss"], dice_term, rtol=1e-6)
    assert net.modes == [False, False, False] and net.training  # eval inside, mode restored
    assert example["image"].shape == (1, 3, 4, 4) and example["maps"].shape == (2, 3, 4, 4)
    assert np.allclose(example["maps"][1], np.tanh(logits[0][0, 1].numpy()), atol=1e-6)


def test_empty_task_counts_as_one_and_no_batches() -> None:
    loss = build_loss(MODEL, targets=["binary", "instance_edt"])
    dice = SoftDice(loss)
    assert dice.value() == 1.0
    assert [t.name for t, _ in dice.tasks] == ["binary"]
    assert patch_validation(Fixed([]), loss, [], device=torch.device("cpu")) == ({}, None)


def test_patch_loss_leaves_learned_balancing_out() -> None:
    rng = np.random.default_rng(1)
    loss = build_loss(
        {**MODEL, "loss_balancing": "uncertainty", "loss_weights": [2.0, 0.5]},
        targets=["binary", "instance_edt"],
    )
    with torch.no_grad():
        loss.balancing.log_vars.copy_(torch.tensor([1.5, -0.7]))
    data = batches(rng, 1)
    logits = [torch.from_numpy(rng.normal(size=(2, 2, 3, 4, 4)).astype(np.float32))]
    values, _ = patch_validation(Fixed(logits), loss, data, device=torch.device("cpu"))
    total, parts = loss(logits[0], data[0]["targets"], data[0]["mask"])
    plain = 2.0 * float(parts["binary/DiceLoss"]) + 0.5 * float(parts["instance_edt/SmoothL1Loss"])
    assert np.isclose(values["val/patch_loss"], plain, rtol=1e-6)
    assert not np.isclose(float(total.detach()), plain)
