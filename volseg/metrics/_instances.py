"""What every instance-level score starts from: checked arguments and the IoU of each
overlapping (segment, ground-truth instance) pair, read off the shared contingency table."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from volseg.errors import VolsegError
from volseg.metrics.contingency import Contingency

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def check_matching_args(thresholds: Iterable[float], min_size: int) -> list[float]:
    """IoU thresholds as floats in (0, 1]; ``min_size`` a whole number >= 0."""
    out = [float(t) for t in thresholds]
    if not out or any(not 0.0 < t <= 1.0 for t in out):
        raise VolsegError(f"IoU thresholds must be in (0, 1], got {out}.")
    if int(min_size) != min_size or min_size < 0:
        raise VolsegError(f"min_size must be a whole number of voxels >= 0, got {min_size}.")
    return out


def instance_ious(table: Contingency, *, min_size: int = 0) -> Pairs:
    """IoU of every overlapping (seg instance, gt instance) pair.

    Returns:
        ``(seg_ids, gt_ids, pair_seg, pair_gt, iou)``: the kept instance ids (non-zero, size >=
        min_size) and, for each overlapping pair of them, its positions in those id arrays and
        its IoU.
    """
    seg_keep = (table.seg_labels != 0) & (table.seg_sizes >= min_size)
    gt_keep = (table.gt_labels != 0) & (table.gt_sizes >= min_size)
    pair_keep = seg_keep[table.seg_index] & gt_keep[table.gt_index]
    seg_pos = np.cumsum(seg_keep) - 1
    gt_pos = np.cumsum(gt_keep) - 1
    si, gi = table.seg_index[pair_keep], table.gt_index[pair_keep]
    inter = table.counts[pair_keep].astype(np.float64)
    union = table.seg_sizes[si] + table.gt_sizes[gi] - inter
    iou = inter / union
    return table.seg_labels[seg_keep], table.gt_labels[gt_keep], seg_pos[si], gt_pos[gi], iou
