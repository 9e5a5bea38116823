"""Per-voxel losses on logits: BCE, weighted BCE, focal.

Every loss here is ``forward(logits, target, valid, weight=None) -> scalar``: ``valid`` is a
float 0/1 tensor shaped like ``target`` (0 = ignored voxel), the result is the sum over valid
voxels divided by the number of valid voxels (0 when nothing is valid), so ignored voxels
change neither the value nor any gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from volseg.errors import VolsegError
from volseg.losses.monai_args import check_monai, drop_background


def masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Sum of ``values`` over valid voxels divided by the number of valid voxels."""
    values = torch.where(valid > 0, values, torch.zeros_like(values))
    return (values * valid).sum() / valid.sum().clamp(min=1.0)


def _clean(target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    # Ignored voxels may hold -1 (or anything); give them a harmless value so no NaN/inf can
    # leak through 0 * inf.
    return torch.where(valid > 0, target, torch.zeros_like(target))


def bce_elementwise(
    logits: torch.Tensor, target: torch.Tensor, pos_weight: float | None
) -> torch.Tensor:
    """Per-voxel BCE on logits; ``pos_weight`` multiplies the positive term (None = 1)."""
    pw = None
    if pos_weight is not None:
        pw = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none", pos_weight=pw)


class BCEWithLogitsLoss(nn.Module):
    """Binary cross-entropy on logits, masked mean.

    Args:
        pos_weight: factor on the positive term (``None`` = 1).
    """

    takes = "logits"
    kinds = ("probability",)

    def __init__(self, *, pos_weight: float | None = None) -> None:
        super().__init__()
        self.pos_weight = None if pos_weight is None else float(pos_weight)

    def _elementwise(
        self, logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-voxel BCE and the cleaned target (ignored voxels set to 0)."""
        target = _clean(target, valid)
        return bce_elementwise(logits, target, self.pos_weight), target

    def forward(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        ce, _ = self._elementwise(logits, target, valid)
        return masked_mean(ce, valid)


class WeightedBCEWithLogitsLoss(BCEWithLogitsLoss):
    """BCE on logits with a per-voxel weight map and optional class balancing.

    The value is ``sum(valid * w * bce) / sum(valid)``, where ``w`` is the weight map passed to
    ``forward`` (1 when absent) times, with ``class_balance``, ``n_valid / (2 n_fg)`` on
    foreground (target > 0.5) and ``n_valid / (2 n_bg)`` on background voxels (computed per
    batch over valid voxels, no gradient).

    Args:
        pos_weight: factor on the positive term (``None`` = 1).
        class_balance: reweight foreground and background to equal total weight.
    """

    uses_weight_map = True

    def __init__(self, *, pos_weight: float | None = None, class_balance: bool = False) -> None:
        super().__init__(pos_weight=pos_weight)
        self.class_balance = bool(class_balance)

    def forward(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        ce, target = self._elementwise(logits, target, valid)
        w = torch.ones_like(ce) if weight is None else weight.expand_as(ce)
        if self.class_balance:
            with torch.no_grad():
                fg = (target > 0.5).to(ce.dtype) * valid
                n_valid = valid.sum()
                n_fg = fg.sum()
                w_fg = n_valid / (2 * n_fg.clamp(min=1.0))
                w_bg = n_valid / (2 * (n_valid - n_fg).clamp(min=1.0))
                w = w * (fg * w_fg + (1 - fg) * w_bg)
        return masked_mean(ce * w, valid)


class FocalLoss(nn.Module):
    """Sigmoid focal loss (Lin et al. 2017) on logits, masked mean.

    ``loss = alpha_t * (1 - p_t) ** gamma * bce(logits, target; pos_weight)`` with
    ``p_t = p t + (1 - p)(1 - t)`` and ``alpha_t = alpha t + (1 - alpha)(1 - t)``; for hard
    labels this is ``-alpha (1 - p)^gamma pos_weight log p`` on positives and
    ``-(1 - alpha) p^gamma log(1 - p)`` on negatives.

    Args:
        alpha: weight of positives in [0, 1]; ``None`` disables the alpha factor.
        gamma: focusing exponent >= 0.
        pos_weight: extra factor on the positive log term (``None`` = 1).
        include_background, use_softmax, to_onehot_y, reduction: MONAI's
            (:mod:`volseg.losses.monai_args`); with ``alpha`` and ``gamma`` set alike this equals
            ``monai.losses.FocalLoss`` on unmasked input.
    """

    takes = "logits"
    kinds = ("probability",)

    def __init__(
        self,
        *,
        alpha: float | None = 0.25,
        gamma: float = 2.0,
        pos_weight: float | None = None,
        include_background: bool = True,
        use_softmax: bool = False,
        to_onehot_y: bool = False,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_monai("FocalLoss", softmax=use_softmax, to_onehot_y=to_onehot_y,
                    reduction=reduction)  # fmt: skip
        self.include_background = bool(include_background)
        if alpha is not None and not 0.0 <= float(alpha) <= 1.0:
            raise VolsegError(f"FocalLoss alpha must be in [0, 1] or null, got {alpha!r}.")
        if not float(gamma) >= 0.0:
            raise VolsegError(f"FocalLoss gamma must be >= 0, got {gamma!r}.")
        self.alpha = None if alpha is None else float(alpha)
        self.gamma = float(gamma)
        self.pos_weight = None if pos_weight is None else float(pos_weight)

    def forward(
        self,
        logits: torch.Tensor,
        target: torch.Tensor,
        valid: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        logits, target, valid = drop_background(self.include_background, logits, target, valid)
        target = _clean(target, valid)
        ce = bce_elementwise(logits, target, self.pos_weight)
        p = torch.sigmoid(logits)
        p_t = p * target + (1 - p) * (1 - target)
        loss = ce * (1 - p_t).pow(self.gamma)
        if self.alpha is not None:
            loss = loss * (self.alpha * target + (1 - self.alpha) * (1 - target))
        return masked_mean(loss, valid)
