"""Regression losses on activated outputs: smooth L1 and MSE (masked means).

``forward(pred, target, valid, weight=None) -> scalar``; ``pred`` is the task's activated
output: tanh for distance targets (EDT in (0, 1], -1 on background), sigmoid for probability
targets. The ``tanh`` option exists so PyTorch Connectomics configs (``{tanh: true}``) read;
it must agree with the task's head, since the same activation is applied at inference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from volseg.errors import VolsegError
from volseg.losses.pixel import masked_mean


class _MaskedRegression(nn.Module):
    """Mean of a per-voxel error over valid voxels (invalid targets copy the prediction, so
    they carry no gradient); subclasses give :meth:`elementwise`."""

    takes = "activated"
    kinds = ("probability", "distance")

    def __init__(self, *, tanh: bool | None = None) -> None:
        super().__init__()
        self.flags = {"tanh": tanh}

    def elementwise(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        target = torch.where(valid > 0, target, pred.detach())
        return masked_mean(self.elementwise(pred, target), valid)


class SmoothL1Loss(_MaskedRegression):
    """Huber-style smooth L1: ``0.5 d^2 / beta`` for ``|d| < beta``, else ``|d| - 0.5 beta``.

    Args:
        beta: switch point between the quadratic and linear parts (> 0).
        tanh: true for the distance head (tanh), false for a probability head (sigmoid);
            must match the task's head. ``None``: follow the head.
    """

    def __init__(self, *, beta: float = 1.0, tanh: bool | None = None) -> None:
        super().__init__(tanh=tanh)
        if not float(beta) > 0:
            raise VolsegError(f"SmoothL1Loss beta must be > 0, got {beta!r}.")
        self.beta = float(beta)

    def elementwise(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.smooth_l1_loss(pred, target, reduction="none", beta=self.beta)


class MSELoss(_MaskedRegression):
    """Mean squared error over valid voxels.

    Args:
        tanh: true for the distance head (tanh), false for a probability head (sigmoid);
            must match the task's head. ``None``: follow the head.
    """

    def elementwise(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (pred - target).square()
