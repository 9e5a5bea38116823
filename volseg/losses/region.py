"""Overlap losses on probabilities: soft Dice and Tversky.

``forward(prob, target, valid, weight=None) -> scalar``; ``prob`` is the sigmoid of the logits
(applied by :func:`volseg.models.heads.activate`). Sums run over valid voxels only, per channel
over the whole batch ("batch Dice": robust when a patch holds no foreground; MONAI's
``batch=True``), or per sample with ``batch=False``; the loss is the mean over channels (and
samples). MONAI's argument names are accepted too (:mod:`volseg.losses.monai_args`).
"""

from __future__ import annotations

import torch
from torch import nn

from volseg.losses.monai_args import check_monai, drop_background, smoothing


def _sums(
    prob: torch.Tensor,
    target: torch.Tensor,
    valid: torch.Tensor,
    *,
    squared: bool = False,
    batch: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Masked ``sum(p t)``, ``sum(p)`` and ``sum(t)`` per channel (squares with ``squared``),
    over the batch too with ``batch``, else per sample and channel."""
    target = torch.where(valid > 0, target, torch.zeros_like(target))
    prob = torch.where(valid > 0, prob, torch.zeros_like(prob))
    dims = [*([0] if batch else []), *range(2, prob.ndim)]
    tp = (prob * target * valid).sum(dims)
    if squared:
        return tp, (prob.square() * valid).sum(dims), (target.square() * valid).sum(dims)
    return tp, (prob * valid).sum(dims), (target * valid).sum(dims)


class DiceLoss(nn.Module):
    """Soft Dice loss ``1 - (2 sum(p t) + smooth) / (sum(p) + sum(t) + smooth)``.

    Args:
        smooth: added to numerator and denominator (keeps empty patches defined; 1e-5).
        squared_pred: use ``sum(p^2) + sum(t^2)`` in the denominator (Milletari et al. 2016).
        smooth_nr, smooth_dr: MONAI's separate numerator / denominator smoothing.
        batch: sum over the batch before the ratio (MONAI's ``batch``).
        include_background: MONAI's; ``False`` drops channel 0 of a multi-channel task.
        sigmoid, softmax, to_onehot_y, reduction: MONAI's; only the settings volseg computes
            (``sigmoid=True``, ``reduction='mean'``) are accepted.
    """

    takes = "activated"
    kinds = ("probability",)

    def __init__(
        self,
        *,
        smooth: float | None = None,
        squared_pred: bool = False,
        smooth_nr: float | None = None,
        smooth_dr: float | None = None,
        batch: bool = True,
        include_background: bool = True,
        sigmoid: bool = True,
        softmax: bool = False,
        to_onehot_y: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_monai("DiceLoss", sigmoid=sigmoid, softmax=softmax, to_onehot_y=to_onehot_y,
                    reduction=reduction)  # fmt: skip
        self.smooth_nr, self.smooth_dr = smoothing("DiceLoss", smooth, smooth_nr, smooth_dr)
        self.squared_pred = bool(squared_pred)
        self.batch, self.include_background = bool(batch), bool(include_background)

    def forward(
        self,
        prob: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        prob, target, valid = drop_background(self.include_background, prob, target, valid)
        tp, ps, ts = _sums(prob, target, valid, squared=self.squared_pred, batch=self.batch)
        dice = (2 * tp + self.smooth_nr) / (ps + ts + self.smooth_dr)
        return (1 - dice).mean()


class TverskyLoss(nn.Module):
    """Tversky loss ``1 - (TP + smooth) / (TP + alpha FP + beta FN + smooth)`` (Salehi 2017).

    ``TP = sum(p t)``, ``FP = sum(p (1 - t))``, ``FN = sum((1 - p) t)``; alpha = beta = 0.5 is
    Dice.

    Args:
        alpha: weight of false positives.
        beta: weight of false negatives.
        smooth: added to numerator and denominator (1e-5).
        smooth_nr, smooth_dr, batch, include_background, sigmoid, softmax, to_onehot_y,
            reduction: MONAI's, as for :class:`DiceLoss`.
    """

    takes = "activated"
    kinds = ("probability",)

    def __init__(
        self,
        *,
        alpha: float = 0.5,
        beta: float = 0.5,
        smooth: float | None = None,
        smooth_nr: float | None = None,
        smooth_dr: float | None = None,
        batch: bool = True,
        include_background: bool = True,
        sigmoid: bool = True,
        softmax: bool = False,
        to_onehot_y: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_monai("TverskyLoss", sigmoid=sigmoid, softmax=softmax, to_onehot_y=to_onehot_y,
                    reduction=reduction)  # fmt: skip
        self.alpha, self.beta = float(alpha), float(beta)
        self.smooth_nr, self.smooth_dr = smoothing("TverskyLoss", smooth, smooth_nr, smooth_dr)
        self.batch, self.include_background = bool(batch), bool(include_background)

    def forward(
        self,
        prob: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        prob, target, valid = drop_background(self.include_background, prob, target, valid)
        tp, ps, ts = _sums(prob, target, valid, batch=self.batch)
        fp, fn = ps - tp, ts - tp
        index = (tp + self.smooth_nr) / (tp + self.alpha * fp + self.beta * fn + self.smooth_dr)
        return (1 - index).mean()
