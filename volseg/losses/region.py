"""Overlap losses on probabilities: soft Dice and Tversky.

``forward(prob, target, valid, weight=None) -> scalar``; ``prob`` is the sigmoid of the logits
(applied by :func:`volseg.models.heads.activate`). Sums run over valid voxels only, per channel
over the whole batch ("batch Dice": robust when a patch holds no foreground); the loss is the
mean over channels.
"""

from __future__ import annotations

import torch
from torch import nn


def _sums(
    prob: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, *, squared: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Masked ``sum(p t)``, ``sum(p)`` and ``sum(t)`` per channel (squares with ``squared``)."""
    target = torch.where(valid > 0, target, torch.zeros_like(target))
    prob = torch.where(valid > 0, prob, torch.zeros_like(prob))
    dims = [0, *range(2, prob.ndim)]
    tp = (prob * target * valid).sum(dims)
    if squared:
        return tp, (prob.square() * valid).sum(dims), (target.square() * valid).sum(dims)
    return tp, (prob * valid).sum(dims), (target * valid).sum(dims)


class DiceLoss(nn.Module):
    """Soft Dice loss ``1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth)``.

    Args:
        smooth: added to numerator and denominator (keeps empty patches defined).
        squared_pred: use ``sum(p^2) + sum(t^2)`` in the denominator (Milletari et al. 2016).
    """

    takes = "activated"
    kinds = ("probability",)

    def __init__(self, *, smooth: float = 1e-5, squared_pred: bool = False) -> None:
        super().__init__()
        self.smooth = float(smooth)
        self.squared_pred = bool(squared_pred)

    def forward(
        self,
        prob: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        tp, ps, ts = _sums(prob, target, valid, squared=self.squared_pred)
        dice = (2 * tp + self.smooth) / (ps + ts + self.smooth)
        return (1 - dice).mean()


class TverskyLoss(nn.Module):
    """Tversky loss ``1 - (TP + smooth) / (TP + alpha FP + beta FN + smooth)`` (Salehi 2017).

    ``TP = sum(p t)``, ``FP = sum(p (1 - t))``, ``FN = sum((1 - p) t)``; alpha = beta = 0.5 is
    Dice.

    Args:
        alpha: weight of false positives.
        beta: weight of false negatives.
        smooth: added to numerator and denominator.
    """

    takes = "activated"
    kinds = ("probability",)

    def __init__(self, *, alpha: float = 0.5, beta: float = 0.5, smooth: float = 1e-5) -> None:
        super().__init__()
        self.alpha, self.beta = float(alpha), float(beta)
        self.smooth = float(smooth)

    def forward(
        self,
        prob: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        tp, ps, ts = _sums(prob, target, valid)
        fp, fn = ps - tp, ts - tp
        index = (tp + self.smooth) / (tp + self.alpha * fp + self.beta * fn + self.smooth)
        return (1 - index).mean()
