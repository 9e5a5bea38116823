"""Named scores of one segmentation against ground truth, and the objective a sweep optimises.

Every score here is computed from one :class:`~volseg.metrics.Contingency` table and says what
it counts. The names are the ones configs (``tune.metric``), ``sweep.csv``, ``thresholds.json``
and reports use:

========================  =========================================================  =========
name                      what it counts                                             better
========================  =========================================================  =========
``are_ignore_bg``         adapted Rand error, ground-truth id 0 left out (SNEMI3D,   lower
                          skimage): false positives in gt background cost nothing.
                          For dense labels (neurons) only.
``are_with_bg``           adapted Rand error in which background counts: voxels with  lower
                          id 0 are singletons on both sides (CREMI's rule for the
                          segmentation, applied to gt too), so labelling gt
                          background falsely merges it, leaving an object's voxel at
                          0 splits it.
``voi``                   variation of information split + merge (bits), gt 0 left   lower
                          out (as ``are_ignore_bg``).
``f1@T``                  instance F1 at IoU >= T (one-to-one matching, instances     higher
                          below the evaluation ``min_size`` left out on both sides).
``ap@T``                  MitoEM / COCO-style AP at IoU >= T, instances ranked by     higher
                          size.
``fg_iou``, ``fg_dice``   the segmentation's foreground (labels > 0) against gt > 0,  higher
                          hard, every scored voxel counted.
========================  =========================================================  =========

``T`` is 0.5 or 0.75 (``f1@0.5``, ``ap@0.75``, ...). The default objective
(:func:`default_objective`) is ``f1@0.5`` when ground-truth background is at least half of the
scored voxels (organelles, vesicles, nuclei: false positives there must cost), else
``are_ignore_bg`` (dense labels). Ties are broken by further scores that also see background
errors (``TIE_BREAKS``), so a setting that labels gt background never wins a tie against one
that does not.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.metrics.contingency import Contingency
from volseg.metrics.matching import match_instances
from volseg.metrics.rand import adapted_rand
from volseg.metrics.voi import voi

IOU_LEVELS = (0.5, 0.75)
#: Share of scored voxels that is gt background above which labels count as sparse.
SPARSE_BACKGROUND_SHARE = 0.5


@dataclass(frozen=True)
class Objective:
    """A named score: its column in a scores row and whether lower is better."""

    name: str
    lower_is_better: bool
    meaning: str


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("are_ignore_bg", True, "adapted Rand error, gt background ignored"),
        Objective("are_with_bg", True, "adapted Rand error, background voxels as singletons"),
        Objective("voi", True, "VOI split + merge (bits), gt background ignored"),
        *(Objective(f"f1@{t:g}", False, f"instance F1 at IoU >= {t:g}") for t in IOU_LEVELS),
        *(Objective(f"ap@{t:g}", False, f"MitoEM AP at IoU >= {t:g}") for t in IOU_LEVELS),
        Objective("fg_iou", False, "segmentation foreground IoU (labels > 0 vs gt > 0)"),
        Objective("fg_dice", False, "segmentation foreground Dice (labels > 0 vs gt > 0)"),
    )
}
#: Scores that decide between settings whose objective ties, in order.
TIE_BREAKS = ("are_with_bg", "fg_iou", "voi")
#: Names older configs used; each is ambiguous or hides background errors.
RENAMED = {
    "adapted_rand": "are_ignore_bg (dense labels) or are_with_bg (false positives count)",
    "f1": "f1@0.5 or f1@0.75",
    "ap": "ap@0.5 or ap@0.75",
}


def check_objective(name: str) -> Objective:
    """The objective called ``name``; an unknown name is an error with the valid ones."""
    if name in OBJECTIVES:
        return OBJECTIVES[name]
    if name in RENAMED:
        raise VolsegError(f"metric `{name}` is ambiguous: use {RENAMED[name]}.")
    hint = difflib.get_close_matches(str(name), list(OBJECTIVES), n=1)
    tip = f"; did you mean `{hint[0]}`?" if hint else ""
    raise VolsegError(f"unknown metric `{name}`{tip} Valid metrics: {', '.join(OBJECTIVES)}.")


def background_share(table: Contingency) -> float:
    """Share of the scored voxels that the ground truth labels 0."""
    total = table.n_voxels
    return float(table.counts[table.gt_ids == 0].sum()) / total if total else 0.0


def default_objective(share: float) -> tuple[str, str]:
    """``(name, reason)`` of the default objective for a gt background share."""
    if share >= SPARSE_BACKGROUND_SHARE:
        return "f1@0.5", (
            f"ground-truth background is {100 * share:.1f}% of the scored voxels (sparse "
            "objects), so false positives there must cost: instance F1 at IoU 0.5"
        )
    return "are_ignore_bg", (
        f"ground-truth background is {100 * share:.1f}% of the scored voxels (dense labels): "
        "adapted Rand error with gt background ignored"
    )


def foreground_overlap(table: Contingency) -> dict[str, float]:
    """Hard foreground IoU and Dice of the segmentation (labels > 0) against gt > 0."""
    seg_fg, gt_fg = table.seg_ids != 0, table.gt_ids != 0
    inter = float(table.counts[seg_fg & gt_fg].sum())
    n_seg, n_gt = float(table.counts[seg_fg].sum()), float(table.counts[gt_fg].sum())
    union = n_seg + n_gt - inter
    empty = n_seg == 0 and n_gt == 0
    return {
        "fg_iou": 1.0 if empty else inter / union,
        "fg_dice": 1.0 if empty else 2 * inter / (n_seg + n_gt),
    }


def are_with_background(table: Contingency) -> tuple[float, float, float]:
    """``(are, precision, recall)`` of adapted Rand with background counted (see the module
    docstring): id-0 voxels are singletons on both sides, pairs are distinct voxel pairs.

    A plain partition score with gt 0 as one more segment cannot tell "background" from "one
    object covering the background"; singletons can: an empty ground truth scored against one
    object covering it gives ARE 1, against an all-0 segmentation ARE 0.
    """

    def f(n: np.ndarray) -> float:
        n = n.astype(np.float64)
        return float(np.sum(n * (n - 1.0)))

    both = (table.seg_ids != 0) & (table.gt_ids != 0)
    joint = f(table.counts[both])
    seg = f(table.seg_sizes[table.seg_labels != 0])
    gt = f(table.gt_sizes[table.gt_labels != 0])
    precision = joint / seg if seg > 0 else 1.0
    recall = joint / gt if gt > 0 else 1.0
    are = 1.0 - 2.0 * joint / (seg + gt) if seg + gt > 0 else 0.0
    return float(are), float(precision), float(recall)


def count_instances(labels: Any) -> int:
    """Instances in a label array: distinct non-zero ids (0 is background, never counted)."""
    ids = np.unique(np.asarray(labels))
    return int(np.count_nonzero(ids))


def all_scores(table: Contingency, *, min_size: int = 0) -> dict[str, float]:
    """Every objective of :data:`OBJECTIVES` plus Rand precision/recall, VOI parts and counts.

    Args:
        table: contingency of the segmentation against the ground truth (inside the mask).
        min_size: instances below this many voxels are left out of matching and AP.

    Returns:
        A flat dict keyed by objective names, ``precision``/``recall`` (of ``are_ignore_bg``),
        ``voi_split``/``voi_merge``, ``n_instances`` and ``n_gt``.
    """
    out: dict[str, float] = {}
    if np.any(table.gt_ids != 0):
        are, precision, recall = adapted_rand(table=table)
        split, merge = voi(table=table)
    else:  # no gt object at all: the ignore-bg scores are undefined, every label is an error
        are, precision, recall, split, merge = 1.0, 0.0, 0.0, float("inf"), 0.0
    out.update(are_ignore_bg=are, precision=precision, recall=recall)
    out.update(voi=split + merge, voi_split=split, voi_merge=merge)
    out["are_with_bg"] = are_with_background(table)[0]
    matching = match_instances(table=table, thresholds=IOU_LEVELS, min_size=int(min_size))
    for t, m in matching.items():
        out[f"f1@{t:g}"] = m["f1"]
        out[f"ap@{t:g}"] = m["ap"]
    out.update(foreground_overlap(table))
    out["n_instances"] = int(np.count_nonzero(table.seg_labels))
    out["n_gt"] = int(np.count_nonzero(table.gt_labels))
    return {k: float(v) if k not in ("n_instances", "n_gt") else v for k, v in out.items()}


def rank_key(row: dict[str, Any], objective: str) -> tuple[float, ...]:
    """Sort key (smaller is better) of a scores row under ``objective`` and the tie-breaks."""
    key = []
    for name in (objective, *(t for t in TIE_BREAKS if t != objective)):
        value = float(row[name])
        value = value if OBJECTIVES[name].lower_is_better else -value
        key.append(value if np.isfinite(value) or value == -np.inf else np.inf)  # NaN is worst
    return tuple(key)
