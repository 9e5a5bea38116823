"""Voxel-wise (semantic) scores of a foreground map against a binary ground truth.

Hard scores use ``pred > threshold``: Dice (= F1), IoU (Jaccard), accuracy, precision, recall.
``soft_dice`` = 2 sum(p g) / (sum p + sum g) on the continuous map, and ``roc_auc`` is the
Mann-Whitney U statistic on the continuous map (ties count one half), computed from ranks in
numpy: no scikit-learn needed.

Empty cases: when neither the prediction nor the ground truth has a foreground voxel, Dice,
IoU, precision, recall, F1 and soft Dice are 1.0; otherwise a 0/0 ratio is 0.0. ROC AUC is
NaN when the ground truth inside the mask holds only one class (it is undefined there).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.metrics import _inputs as inp


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties 1/2.

    Args:
        scores: 1-D float scores.
        positive: 1-D boolean, same length: which samples are positives.

    Returns:
        The AUC in [0, 1], or NaN when only one class is present.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    positive = np.asarray(positive, dtype=bool).reshape(-1)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    pos_per_group = np.add.reduceat(positive[order].astype(np.int64), starts)
    mean_rank = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    rank_sum = float(np.dot(pos_per_group, mean_rank))
    u = rank_sum - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * float(n_neg)))


def _ratio(num: float, den: float, *, empty: bool) -> float:
    if den > 0:
        return float(num / den)
    return 1.0 if empty else 0.0


def _foreground_and_valid(gt: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Binary gt and the voxels it defines (float gt: 0/1, -1 = ignore)."""
    if gt.dtype.kind in "uib":
        return gt != 0, np.ones(gt.shape, bool)
    if gt.dtype.kind != "f":
        raise VolsegError(f"{name} must be boolean, integer or float 0/1/-1, got {gt.dtype}.")
    bad = ~np.isin(gt, (0.0, 1.0, -1.0))
    if bad.any():
        raise VolsegError(
            f"{name} as float must hold only 0, 1 or -1 (ignore), found {gt[bad].flat[0]!r}."
        )
    return gt == 1.0, gt != -1.0


def semantic(pred: Any, gt: Any, *, threshold: float = 0.5, mask: Any = None) -> dict[str, float]:
    """Voxel-wise scores of a foreground probability map (see the module docstring).

    Args:
        pred: foreground probabilities (float), or a binary/label array (non-zero = foreground).
        gt: ground truth: boolean/integer (non-zero = foreground), or float 0/1 with -1 = ignore.
        threshold: a voxel is predicted foreground when ``pred > threshold``.
        mask: optional boolean array; only voxels where it is True count.

    Returns:
        ``{"tp", "fp", "fn", "tn", "dice", "iou", "accuracy", "precision", "recall", "f1",
        "soft_dice", "roc_auc"}``.

    Raises:
        VolsegError: shapes differ, non-finite predictions, or a gt value that is not a class.
    """
    names = {"pred": inp.describe(pred, "pred"), "gt": inp.describe(gt, "gt")}
    p = np.asarray(inp.as_array_like(pred, names["pred"])[...])
    g = np.asarray(inp.as_array_like(gt, names["gt"])[...])
    inp.check_same_shape(p, g, names["pred"], names["gt"])
    fg, valid = _foreground_and_valid(g, names["gt"])
    if mask is not None:
        m = inp.as_array_like(mask, inp.describe(mask, "mask"))
        inp.check_mask_dtype(m, "mask")
        inp.check_same_shape(m, g, "mask", names["gt"])
        valid &= np.asarray(m[...]) != 0
    if p.dtype.kind in "uib":
        values = (p[valid] != 0).astype(np.float64)
    elif p.dtype.kind == "f":
        values = p[valid].astype(np.float64)
        if not np.isfinite(values).all():
            raise VolsegError(f"{names['pred']} contains NaN or infinite values.")
    else:
        raise VolsegError(f"{names['pred']} must be a float map or integer labels, got {p.dtype}.")
    truth = fg[valid]
    if truth.size == 0:
        raise VolsegError("no voxel is left to evaluate after the mask and the ignore value -1.")
    hard = values > threshold
    tp = int(np.count_nonzero(hard & truth))
    fp = int(np.count_nonzero(hard & ~truth))
    fn = int(np.count_nonzero(~hard & truth))
    tn = int(truth.size - tp - fp - fn)
    empty = tp + fp + fn == 0
    dice = _ratio(2 * tp, 2 * tp + fp + fn, empty=empty)
    soft_num = 2.0 * float(values[truth].sum())
    soft_den = float(values.sum()) + float(truth.sum())
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "dice": dice,
        "iou": _ratio(tp, tp + fp + fn, empty=empty),
        "accuracy": _ratio(tp + tn, truth.size, empty=True),
        "precision": _ratio(tp, tp + fp, empty=empty),
        "recall": _ratio(tp, tp + fn, empty=empty),
        "f1": dice,
        "soft_dice": _ratio(soft_num, soft_den, empty=soft_den == 0),
        "roc_auc": roc_auc(values, truth),
    }
