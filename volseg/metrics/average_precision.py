"""COCO-style average precision of 3D instances at IoU thresholds (MitoEM's AP-50 / AP-75).

MitoEM scores instance segmentations with ``mAP_3Dvolume``: the COCO evaluation (pycocotools
``COCOeval``) applied to 3D instances. Predicted instances are ranked by a confidence score,
by default their size in voxels (what that tool does when no score file is given); then, in
rank order, each prediction takes the unmatched ground-truth instance of highest IoU, if that
IoU is at least the threshold (ties between equal IoUs go to the later ground-truth id, as in
pycocotools). The precision-recall curve of that ranking is made monotone (each precision
replaced by the best precision at any higher recall) and averaged at the 101 recall points
0, 0.01, ..., 1, a recall never reached counting as precision 0.

Differences from pycocotools: no cap on detections (COCO keeps 100 per image), one area range
(all sizes), and the empty cases follow :mod:`volseg.metrics.matching`: no instance on either
side gives 1.0, ground truth without predictions (or predictions without ground truth) 0.0.
IoUs come from the one contingency table every instance metric shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.metrics import _table
from volseg.metrics._instances import Pairs, check_matching_args, instance_ious
from volseg.metrics.contingency import Contingency

RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def instance_scores(
    seg_ids: np.ndarray, sizes: np.ndarray, scores: Mapping[int, float] | None
) -> np.ndarray:
    """Confidence per kept seg instance: ``scores[id]`` or, without ``scores``, its size."""
    if scores is None:
        return sizes.astype(np.float64)
    missing = [int(i) for i in seg_ids if int(i) not in scores]
    if missing:
        few = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise VolsegError(f"scores has no confidence for segment id(s) {few}.")
    out = np.array([float(scores[int(i)]) for i in seg_ids], dtype=np.float64)
    if not np.isfinite(out).all():
        raise VolsegError("scores must be finite numbers.")
    return out


def _greedy_hits(
    n_seg: int, pair_rank: np.ndarray, pair_gt: np.ndarray, iou: np.ndarray, n_gt: int
) -> np.ndarray:
    """For each rank 0..n_seg-1: does the prediction of that rank take a ground-truth instance?

    ``pair_rank`` / ``pair_gt`` / ``iou`` list the candidate pairs (IoU >= threshold).
    """
    hits = np.zeros(n_seg, dtype=bool)
    taken = np.zeros(n_gt, dtype=bool)
    by_rank = np.lexsort((pair_gt, pair_rank))  # gt positions ascending within a rank
    starts = np.searchsorted(pair_rank[by_rank], np.arange(n_seg + 1))
    for rank in range(n_seg):
        best, best_iou = -1, -1.0
        for k in by_rank[starts[rank] : starts[rank + 1]]:
            g = pair_gt[k]
            if not taken[g] and iou[k] >= best_iou:  # >=: a later gt wins a tie
                best, best_iou = g, iou[k]
        if best >= 0:
            taken[best] = True
            hits[rank] = True
    return hits


def _ap(hits: np.ndarray, n_gt: int) -> float:
    tp = np.cumsum(hits, dtype=np.float64)
    fp = np.cumsum(~hits, dtype=np.float64)
    recall = tp / n_gt
    precision = tp / np.maximum(tp + fp, 1.0)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at >= recall
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    reached = idx < precision.size
    return float(np.where(reached, precision[np.minimum(idx, precision.size - 1)], 0.0).mean())


def average_precision(
    seg: Any = None,
    gt: Any = None,
    *,
    thresholds: Iterable[float] = (0.5, 0.75),
    scores: Mapping[int, float] | None = None,
    mask: Any = None,
    min_size: int = 0,
    table: Contingency | None = None,
) -> dict[float, float]:
    """COCO-style AP at each IoU threshold (see the module docstring).

    Args:
        seg: segmentation labels (integers, 0 = background).
        gt: ground-truth labels, same shape.
        thresholds: IoU thresholds in (0, 1]; a pair may match when IoU >= threshold.
        scores: confidence per segment id (e.g. its mean foreground probability); default:
            each segment's size in voxels, as MitoEM's evaluation ranks them.
        mask: optional boolean array; only voxels where it is True count.
        min_size: instances (seg and gt) smaller than this many voxels are left out.
        table: a precomputed :func:`~volseg.metrics.contingency` (seg, gt, mask are then not read).

    Returns:
        ``{threshold: ap}``.
    """
    thresholds = check_matching_args(thresholds, min_size)
    t_all = _table.resolve_table(seg, gt, mask, table)
    pairs = instance_ious(t_all, min_size=int(min_size))
    return ap_of_pairs(t_all, pairs, thresholds, scores=scores)


def ap_of_pairs(
    table: Contingency,
    pairs: Pairs,
    thresholds: list[float],
    *,
    scores: Mapping[int, float] | None = None,
) -> dict[float, float]:
    """:func:`average_precision` from the table's :func:`instance_ious` (thresholds checked)."""
    seg_ids, gt_ids, pair_seg, pair_gt, iou = pairs
    n_seg, n_gt = seg_ids.size, gt_ids.size
    if n_seg == 0 or n_gt == 0:
        return {t: 1.0 if n_seg == n_gt else 0.0 for t in thresholds}
    sizes = table.seg_sizes[np.searchsorted(table.seg_labels, seg_ids)]
    conf = instance_scores(seg_ids, sizes, scores)
    order = np.argsort(-conf, kind="stable")  # ties: ascending id, as pycocotools' mergesort
    rank_of = np.empty(n_seg, dtype=np.int64)
    rank_of[order] = np.arange(n_seg)
    out: dict[float, float] = {}
    for thr in thresholds:
        cand = iou >= thr
        hits = _greedy_hits(n_seg, rank_of[pair_seg[cand]], pair_gt[cand], iou[cand], n_gt)
        out[thr] = _ap(hits, n_gt)
    return out
