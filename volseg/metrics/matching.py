"""Instance matching at IoU thresholds: TP/FP/FN, F1, panoptic quality, DSB-style "AP".

Instances are the non-zero ids of each volume (inside ``mask``); an instance's size counts all
its voxels, including those over the other volume's background, and IoU(s, g) =
n_sg / (|s| + |g| - n_sg). At threshold ``t`` a seg and a gt instance may match when
IoU >= t (StarDist's convention); the matching is one-to-one and has maximum cardinality,
ties broken by maximum total IoU (scipy ``linear_sum_assignment`` on each connected group of
candidate pairs). For t > 0.5 candidates are already unique (two disjoint segments cannot both
cover more than half of the union with the same instance), so this equals greedy matching.

Per threshold the result holds:

* ``tp``, ``fp`` (unmatched seg instances), ``fn`` (unmatched gt instances), ``n_seg``, ``n_gt``;
* ``precision`` = tp/(tp+fp), ``recall`` = tp/(tp+fn), ``f1`` = 2tp/(2tp+fp+fn);
* ``mean_matched_iou`` (= panoptic segmentation quality SQ), ``pq`` = SQ * RQ with RQ = f1;
* ``ap_dsb`` = tp/(tp+fp+fn): the score that the Data Science Bowl 2018, StarDist
  ("accuracy") and Cellpose call "average precision" at one IoU threshold;
* ``ap``: the COCO-style average precision that MitoEM reports as AP-50 / AP-75, over
  instances ranked by confidence (default: size, as MitoEM's evaluation); it uses its own
  greedy matching in rank order, see :mod:`volseg.metrics.average_precision`.

Empty cases: when there is no instance on either side every ratio is 1.0; otherwise a 0/0
ratio is 0.0. ``min_size`` removes gt and seg instances smaller than it (in voxels inside the
mask) before matching: they are neither matched nor counted as FP or FN, and they do not
change the IoU of the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from volseg.metrics import _table
from volseg.metrics._instances import check_matching_args, instance_ious
from volseg.metrics.average_precision import ap_of_pairs
from volseg.metrics.contingency import Contingency

__all__ = ["check_matching_args", "instance_ious", "match_instances"]


def _match(pair_seg: np.ndarray, pair_gt: np.ndarray, iou: np.ndarray, n_seg: int) -> np.ndarray:
    """IoUs of a maximum-cardinality, then maximum-IoU, one-to-one matching of the pairs."""
    if iou.size == 0:
        return iou
    seg_u, seg_c = np.unique(pair_seg, return_counts=True)
    gt_u, gt_c = np.unique(pair_gt, return_counts=True)
    if seg_c.max() == 1 and gt_c.max() == 1:  # no conflicts: every candidate is a match
        return iou
    # Connected groups of candidates, so each assignment problem stays small.
    n_nodes = n_seg + int(pair_gt.max()) + 1
    graph = coo_array((np.ones(iou.size), (pair_seg, n_seg + pair_gt)), shape=(n_nodes,) * 2)
    _, comp = connected_components(graph, directed=False)
    pair_comp = comp[pair_seg]
    matched = []
    for c in np.unique(pair_comp):
        sel = pair_comp == c
        rows, r = np.unique(pair_seg[sel], return_inverse=True)
        cols, k = np.unique(pair_gt[sel], return_inverse=True)
        if rows.size == 1 and cols.size == 1:
            matched.append(iou[sel])
            continue
        # Weight 1 + iou/(2m): one more match always outweighs any IoU gain (sum < 1/2).
        weight = np.zeros((rows.size, cols.size))
        weight[r, k] = 1.0 + iou[sel] / (2.0 * min(rows.size, cols.size))
        ri, ci = linear_sum_assignment(weight, maximize=True)
        ok = weight[ri, ci] > 0
        best = np.zeros((rows.size, cols.size))
        best[r, k] = iou[sel]
        matched.append(best[ri[ok], ci[ok]])
    return np.concatenate(matched)


def _ratio(num: float, den: float, *, empty: bool) -> float:
    if den > 0:
        return float(num / den)
    return 1.0 if empty else 0.0


def match_instances(
    seg: Any = None,
    gt: Any = None,
    *,
    thresholds: Iterable[float] = (0.5, 0.75),
    mask: Any = None,
    min_size: int = 0,
    table: Contingency | None = None,
    scores: Mapping[int, float] | None = None,
) -> dict[float, dict[str, float]]:
    """Match seg to gt instances at each IoU threshold (see the module docstring).

    Args:
        seg: segmentation labels (integers, 0 = background).
        gt: ground-truth labels, same shape.
        thresholds: IoU thresholds in (0, 1]; a pair matches when IoU >= threshold.
        mask: optional boolean array; only voxels where it is True count.
        min_size: instances (seg and gt) smaller than this many voxels are left out.
        table: a precomputed :func:`~volseg.metrics.contingency` (seg, gt, mask are then not read).
        scores: confidence per segment id for the ranking of ``ap`` (default: segment size).

    Returns:
        ``{threshold: {"tp", "fp", "fn", "n_seg", "n_gt", "precision", "recall", "f1",
        "mean_matched_iou", "pq", "ap_dsb", "ap"}}``; ``ap`` is MitoEM's COCO-style AP
        (:func:`volseg.metrics.average_precision`).

    Raises:
        VolsegError: bad inputs, a threshold outside (0, 1] or a negative min_size.
    """
    thresholds = check_matching_args(thresholds, min_size)
    t_all = _table.resolve_table(seg, gt, mask, table)
    pairs = instance_ious(t_all, min_size=int(min_size))
    ap = ap_of_pairs(t_all, pairs, thresholds, scores=scores)
    seg_ids, gt_ids, pair_seg, pair_gt, iou = pairs
    n_seg, n_gt = seg_ids.size, gt_ids.size
    empty = n_seg == 0 and n_gt == 0
    out: dict[float, dict[str, float]] = {}
    for thr in thresholds:
        cand = iou >= thr
        matched = _match(pair_seg[cand], pair_gt[cand], iou[cand], n_seg)
        tp = int(matched.size)
        fp, fn = n_seg - tp, n_gt - tp
        sq = _ratio(float(matched.sum()), tp, empty=empty)
        f1 = _ratio(2 * tp, 2 * tp + fp + fn, empty=empty)
        out[thr] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "n_seg": int(n_seg),
            "n_gt": int(n_gt),
            "precision": _ratio(tp, tp + fp, empty=empty),
            "recall": _ratio(tp, tp + fn, empty=empty),
            "f1": f1,
            "mean_matched_iou": sq,
            "pq": sq * f1,
            "ap_dsb": _ratio(tp, tp + fp + fn, empty=empty),
            "ap": ap[thr],
        }
    return out
