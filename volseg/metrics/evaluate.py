"""One scores report for a segmentation against ground truth, used by every workflow.

``volseg evaluate``, ``volseg segment --gt``, ``volseg test``, the demo's ``report.md`` and
training's whole-region validation all call :func:`evaluate_table` (arrays or paths go through
:func:`evaluate_arrays` / :func:`evaluate_paths`), so each prints the same named numbers:

* ``instances``: segmented and ground-truth instances, counting non-zero ids only;
* ``segmentation_foreground``: the *segmentation's* hard foreground IoU/Dice (labels > 0 vs
  gt > 0), always present beside the instance scores;
* ``adapted_rand_ignore_bg`` and ``adapted_rand_with_bg`` (gt background ignored / counted,
  background voxels as singletons on both sides: :func:`~volseg.metrics.objectives.
  are_with_background`), ``voi`` (gt background ignored), ``matching`` (F1, MitoEM AP per IoU
  threshold);
* ``map_foreground`` (only when a foreground map is given): the *map's* hard Dice/IoU at each
  threshold of a table, and its soft Dice (no threshold), each named as the map's.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.voxels import check_same_voxel_size
from volseg.metrics.contingency import Contingency, contingency
from volseg.metrics.matching import match_instances
from volseg.metrics.objectives import are_with_background, background_share, foreground_overlap
from volseg.metrics.rand import adapted_rand
from volseg.metrics.semantic import semantic
from volseg.metrics.voi import voi

#: Score groups a config's ``test.evaluation.metrics`` (or ``--metrics``) may list.
GROUPS = ("adapted_rand", "voi", "match_instances", "semantic")
INSTANCE_GROUPS = ("adapted_rand", "voi", "match_instances")
MAP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def check_groups(metrics: Sequence[str]) -> tuple[str, ...]:
    """Validate metric group names (one sentence naming the bad one)."""
    for name in metrics:
        if name not in GROUPS:
            raise VolsegError(f"unknown metric `{name}`; valid: {', '.join(GROUPS)}.")
    if not metrics:
        raise VolsegError(f"give at least one metric of {', '.join(GROUPS)}.")
    return tuple(metrics)


def check_instances(metrics: Sequence[str], dtype: np.dtype, path: str) -> None:
    """Instance metrics need integer labels: refuse a boolean (semantic) mask or a float map."""
    wanted = [m for m in metrics if m in INSTANCE_GROUPS]
    if wanted and np.dtype(dtype).kind not in "ui":
        kind = "a semantic (boolean) mask" if np.dtype(dtype) == bool else f"{dtype} values"
        raise VolsegError(
            f"metric `{wanted[0]}` needs instance labels, but {path} holds {kind}; decode the "
            "maps first (volseg decode) or score it with --metrics semantic."
        )


def map_table(
    fg_map: np.ndarray,
    gt: np.ndarray,
    *,
    mask: Any = None,
    thresholds: Sequence[float] = MAP_THRESHOLDS,
) -> dict[str, Any]:
    """The foreground map's hard Dice/IoU at each threshold, and its soft Dice (named so)."""
    rows = []
    for t in thresholds:
        s = semantic(fg_map, gt > 0, threshold=float(t), mask=mask)
        rows.append({"threshold": float(t), "dice_hard": s["dice"], "iou_hard": s["iou"]})
    s = semantic(fg_map, gt > 0, threshold=0.5, mask=mask)
    return {"per_threshold": rows, "soft_dice": s["soft_dice"], "roc_auc": s["roc_auc"]}


def evaluate_table(
    table: Contingency,
    *,
    metrics: Sequence[str] = GROUPS,
    min_size: int = 0,
    thresholds: Sequence[float] = (0.5, 0.75),
    seg_background: str = "label",
) -> dict[str, Any]:
    """Every requested score group from one contingency table (see the module docstring)."""
    metrics = check_groups(metrics)
    fg = foreground_overlap(table)
    out: dict[str, Any] = {
        "voxels_scored": table.n_voxels,
        "gt_background_share": background_share(table),
        "instances": {
            "segmentation": int(np.count_nonzero(table.seg_labels)),
            "ground_truth": int(np.count_nonzero(table.gt_labels)),
        },
        "segmentation_foreground": {"iou": fg["fg_iou"], "dice": fg["fg_dice"], "hard": True},
        "metrics": list(metrics),
    }
    has_gt = bool(np.any(table.gt_ids != 0))
    if "adapted_rand" in metrics:
        if has_gt:
            are, p, r = adapted_rand(table=table, seg_background=seg_background)
            out["adapted_rand_ignore_bg"] = {"are": are, "precision": p, "recall": r}
        are, p, r = are_with_background(table)
        out["adapted_rand_with_bg"] = {"are": are, "precision": p, "recall": r}
    if "voi" in metrics and has_gt:
        split, merge = voi(table=table, seg_background=seg_background)
        out["voi"] = {"split": split, "merge": merge, "total": split + merge}
    if "match_instances" in metrics:
        matching = match_instances(table=table, thresholds=thresholds, min_size=min_size)
        out["matching"] = {
            "min_size": int(min_size),
            "thresholds": {f"{t:g}": scores for t, scores in matching.items()},
        }
    return out


def evaluate_arrays(
    seg: np.ndarray,
    gt: np.ndarray,
    *,
    mask: Any = None,
    fg_map: np.ndarray | None = None,
    metrics: Sequence[str] = GROUPS,
    min_size: int = 0,
    thresholds: Sequence[float] = (0.5, 0.75),
) -> dict[str, Any]:
    """:func:`evaluate_table` of in-memory arrays, plus the map's table when ``fg_map`` is given."""
    if np.shape(seg) != np.shape(gt):
        raise VolsegError(f"labels shape {np.shape(seg)} differs from ground truth {np.shape(gt)}.")
    out = evaluate_table(contingency(seg, gt, mask=mask), metrics=metrics, min_size=min_size,
                         thresholds=thresholds)  # fmt: skip
    if fg_map is not None and "semantic" in metrics:
        out["map_foreground"] = map_table(fg_map, gt, mask=mask)
    return out


def _open(path: str, role: str, *, labels: bool):
    from volseg.io import open_volume

    volume = open_volume(path)
    if volume.dtype.kind not in "uib":
        volume.close()
        what = "instance labels or a boolean mask" if labels else "a boolean or integer mask"
        raise VolsegError(
            f"{role} {path} holds {volume.dtype} values; volseg evaluate needs {what} (decode "
            "predicted maps first with volseg decode)."
        )
    return volume


def evaluate_paths(
    labels: str,
    gt: str,
    *,
    mask: str | None = None,
    metrics: Sequence[str] = GROUPS,
    min_size: int = 0,
    thresholds: Sequence[float] = (0.5, 0.75),
    seg_background: str = "label",
) -> dict[str, Any]:
    """Open the volumes, build one contingency table (slab by slab) and score it."""
    metrics = check_groups(metrics)
    if min_size < 0:
        raise VolsegError(f"--min-size must be >= 0 voxels, got {min_size}.")
    with ExitStack() as stack:
        seg_v = stack.enter_context(_open(labels, "labels", labels=True))
        gt_v = stack.enter_context(_open(gt, "ground truth", labels=True))
        check_instances(metrics, seg_v.dtype, labels)
        check_instances(metrics, gt_v.dtype, gt)
        if seg_v.shape != gt_v.shape:
            raise VolsegError(
                f"labels {labels} has shape {seg_v.shape} but ground truth {gt} has shape "
                f"{gt_v.shape}; they must be equal."
            )
        check_same_voxel_size(seg_v, gt_v, ("labels", "ground truth"))
        mask_v = None
        if mask is not None:
            mask_v = stack.enter_context(_open(mask, "mask", labels=False))
            if mask_v.shape != gt_v.shape:
                raise VolsegError(
                    f"mask {mask} has shape {mask_v.shape} but ground truth {gt} has shape "
                    f"{gt_v.shape}; they must be equal."
                )
            check_same_voxel_size(gt_v, mask_v, ("ground truth", "mask"))
        table = contingency(seg_v, gt_v, mask=mask_v)
    result = evaluate_table(table, metrics=metrics, min_size=min_size, thresholds=thresholds,
                            seg_background=seg_background)  # fmt: skip
    head = {"labels": labels, "gt": gt, "mask": mask, "shape": list(gt_v.shape),
            "seg_background": seg_background}  # fmt: skip
    return {**head, **result}
