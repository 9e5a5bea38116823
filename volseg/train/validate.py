"""Patch-level validation: loss and soft Dice on the validation patches.

These are *patch* scores (fixed tiles of the validation regions, the same every time): cheap
enough for every epoch, but not the whole-region result, which :mod:`volseg.train.full_val`
computes. The names say so: ``val/patch_loss``, ``val/patch_soft_dice`` and one
``val/patch_loss/<target>/<Loss>`` per loss term.

``val/patch_loss`` is ``sum_i loss_weight_i * L_i`` without learned balancing (uncertainty
log-variances or GradNorm weights change during training, so the balanced total would not be
comparable between epochs or runs); with ``loss_balancing: none`` it is the training loss.

Soft Dice is ``2 sum(p t) / (sum p + sum t)`` over the valid voxels of every probability task
(sigmoid channels; a voxel is valid where the mask is set and the target is not -1), summed
over all patches and then averaged over the tasks; a task without any foreground or prediction
counts as 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import torch
from torch import nn

from volseg.models.heads import activate


class SoftDice:
    """Accumulates soft-Dice sums per probability task of a multi-task loss."""

    def __init__(self, loss: Any) -> None:
        self.tasks = [
            (task, loss.target_slices[i])
            for i, task in enumerate(loss.tasks)
            if task.kind == "probability"
        ]
        self.inter = np.zeros(len(self.tasks))
        self.total = np.zeros(len(self.tasks))

    def add(self, logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None) -> None:
        """Add one batch: logits ``(b, c, z, y, x)``, targets, mask ``(b, 1, z, y, x)``."""
        for k, (task, (t0, t1)) in enumerate(self.tasks):
            p = activate(logits[:, task.start : task.end].float(), task.activation)
            t = targets[:, t0:t1].float()
            valid = t != -1
            if mask is not None:
                valid &= mask.bool().expand_as(t)
            p, t = p[valid], t[valid]
            self.inter[k] += float((p * t).sum())
            self.total[k] += float(p.sum() + t.sum())

    def value(self) -> float | None:
        """The mean soft Dice over tasks, or None without probability tasks."""
        if not self.tasks:
            return None
        dice = np.where(self.total > 0, 2 * self.inter / np.maximum(self.total, 1e-12), 1.0)
        return float(dice.mean())


def _to(batch: dict[str, Any], device: torch.device) -> tuple[torch.Tensor, ...]:
    image = batch["image"].to(device, non_blocking=True)
    targets = batch["targets"].to(device, non_blocking=True)
    mask = batch.get("mask")
    return image, targets, None if mask is None else mask.to(device, non_blocking=True)


@torch.no_grad()
def patch_validation(
    net: nn.Module,
    loss: nn.Module,
    batches: Iterable[dict[str, Any]],
    *,
    device: torch.device,
    autocast: AbstractContextManager | None = None,
) -> tuple[dict[str, float], dict[str, np.ndarray] | None]:
    """Validate ``net`` on patches.

    Args:
        net: the network (eval mode is set here and the previous mode restored).
        loss: the multi-task loss.
        batches: validation batches ``{"image", "targets", "mask"}``.
        device: where to compute.
        autocast: precision context for the forward pass (None = full precision).

    Returns:
        ``({"val/patch_loss", "val/patch_soft_dice", "val/patch_loss/..."}, example)``;
        ``example`` is the first
        patch as numpy (``image`` (1, z, y, x), ``targets``, ``mask``, ``maps``) for figures.
    """
    was_training = net.training
    net.eval()
    dice = SoftDice(loss)
    weights = np.array([loss.loss_weights[li] for _, li in loss.terms])
    sums, count, example = np.zeros(len(weights)), 0, None
    try:
        for batch in batches:
            image, targets, mask = _to(batch, device)
            with autocast or nullcontext():
                logits = net(image)
            logits = logits.float()
            _, parts = loss(logits, targets, mask)
            sums += image.shape[0] * np.array([float(parts[n]) for n in loss.term_names])
            count += image.shape[0]
            dice.add(logits, targets, mask)
            if example is None:
                example = _example(logits, image, targets, mask, loss)
    finally:
        net.train(was_training)
    if count == 0:
        return {}, None
    terms = sums / count
    values = {"val/patch_loss": float((weights * terms).sum())}
    names = [f"val/patch_loss/{n}" for n in loss.term_names]
    values.update({n: float(t) for n, t in zip(names, terms, strict=True)})
    soft = dice.value()
    if soft is not None:
        values["val/patch_soft_dice"] = soft
    return values, example


def _example(
    logits: torch.Tensor, image: torch.Tensor, targets: torch.Tensor, mask: Any, loss: Any
) -> dict[str, np.ndarray]:
    maps = torch.empty_like(logits[0])
    for task in loss.tasks:
        maps[task.start : task.end] = activate(logits[0, task.start : task.end], task.activation)
    out = {
        "image": image[0].float().cpu().numpy(),
        "targets": targets[0].float().cpu().numpy(),
        "maps": maps.cpu().numpy(),
    }
    if mask is not None:
        out["mask"] = mask[0].float().cpu().numpy()
    return out
