"""Resolve the ``seg, gt, mask`` / ``table=`` arguments every instance metric accepts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.metrics.contingency import Contingency, contingency

SEG_BACKGROUNDS = ("label", "singletons")


def resolve_table(seg: Any, gt: Any, mask: Any, table: Contingency | None) -> Contingency:
    """Return ``table`` if given (seg, gt and mask are then not read), else compute it."""
    if table is not None:
        if not isinstance(table, Contingency):
            raise VolsegError(
                f"table must be a volseg.metrics.Contingency, got {type(table).__name__}."
            )
        return table
    if seg is None or gt is None:
        raise VolsegError("seg and gt are required when no precomputed table= is given.")
    return contingency(seg, gt, mask=mask)


def without_ignored(table: Contingency, ignore_labels: Iterable[int], metric: str) -> Contingency:
    """Drop ground-truth ``ignore_labels``; refuse a table with nothing left."""
    labels = [int(v) for v in ignore_labels]
    if any(v < 0 for v in labels):
        raise VolsegError(f"ignore_labels must be >= 0, got {labels}.")
    kept = table.drop(gt_labels=labels)
    if kept.n_voxels == 0:
        raise VolsegError(
            f"the ground truth has no voxels left after the mask and "
            f"ignore_labels={tuple(labels)}; {metric} is undefined."
        )
    return kept


def check_seg_background(seg_background: str) -> None:
    """``seg_background`` must be one of :data:`SEG_BACKGROUNDS`."""
    if seg_background not in SEG_BACKGROUNDS:
        raise VolsegError(
            f"seg_background must be one of {SEG_BACKGROUNDS}, got {seg_background!r}."
        )


def background_pairs(table: Contingency) -> np.ndarray:
    """Boolean ``(k,)``: which pairs have segmentation id 0."""
    return table.seg_ids == 0
