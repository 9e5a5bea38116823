"""The ``errors`` layer: where a segmentation merges or splits ground-truth bodies.

Definitions, with ``n(s, g)`` the voxels shared by segment ``s != 0`` and body ``g != 0``
(background on either side never counts) and ``N = min_overlap``:

* a segment ``s`` is a **false merge** when ``n(s, g) > N`` for two or more bodies ``g``;
  every voxel of ``s`` gets :data:`MERGE` (1);
* a body ``g`` is a **false split** when ``n(s, g) > N`` for two or more segments ``s``;
  every voxel of ``g`` gets :data:`SPLIT` (2);
* a voxel in both a merged segment and a split body gets :data:`BOTH` (3).

Overlaps of at most ``N`` voxels (boundary disagreements) are tolerated. The counts come from
one :func:`volseg.metrics.contingency` table, which the re-decode widget shares with its scores.
"""

from __future__ import annotations

from typing import Any

import fastremap
import numpy as np

from volseg.errors import VolsegError
from volseg.metrics import Contingency, contingency

MERGE, SPLIT, BOTH = 1, 2, 3
NAMES = {MERGE: "false merge", SPLIT: "false split", BOTH: "merge and split"}
COLORS = {
    None: "transparent",
    0: "transparent",
    MERGE: "#ff3030",
    SPLIT: "#30c0ff",
    BOTH: "#ffe030",
}
DEFAULT_MIN_OVERLAP = 50


def erroneous_ids(table: Contingency, *, min_overlap: int) -> tuple[np.ndarray, np.ndarray]:
    """``(merged segment ids, split body ids)`` by the definitions in the module docstring."""
    keep = (table.seg_ids != 0) & (table.gt_ids != 0) & (table.counts > min_overlap)
    seg_ids, gt_ids = table.seg_ids[keep], table.gt_ids[keep]
    seg_unique, seg_n = np.unique(seg_ids, return_counts=True)
    gt_unique, gt_n = np.unique(gt_ids, return_counts=True)
    return seg_unique[seg_n > 1], gt_unique[gt_n > 1]


def _member(labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Boolean mask of the voxels whose id is in ``ids``."""
    if ids.size == 0:
        return np.zeros(labels.shape, dtype=bool)
    if labels.dtype == bool:
        labels = labels.view(np.uint8)
    kept = fastremap.mask_except(np.ascontiguousarray(labels), ids.astype(labels.dtype).tolist())
    return kept != 0


def error_labels(
    seg: Any,
    gt: Any,
    *,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    table: Contingency | None = None,
) -> np.ndarray:
    """uint8 volume: 0 fine, 1 false merge, 2 false split, 3 both (module docstring).

    Args:
        seg: segmentation labels (z, y, x), 0 = background.
        gt: ground-truth labels, same shape, 0 = unlabelled.
        min_overlap: overlaps of at most this many voxels are ignored.
        table: the contingency table of ``(seg, gt)`` if already computed.

    Raises:
        VolsegError: shapes differ, non-integer labels, or a negative ``min_overlap``.
    """
    seg, gt = np.asarray(seg), np.asarray(gt)
    if seg.shape != gt.shape:
        raise VolsegError(
            f"the segmentation {seg.shape} and the ground truth {gt.shape} must have the same "
            "shape to mark errors."
        )
    for name, arr in (("segmentation", seg), ("ground truth", gt)):
        if arr.dtype.kind not in "iub":
            raise VolsegError(f"the {name} must hold integer labels, got dtype {arr.dtype}.")
    if isinstance(min_overlap, bool) or int(min_overlap) != min_overlap or min_overlap < 0:
        raise VolsegError(f"min_overlap must be an integer >= 0, got {min_overlap!r}.")
    if table is None:
        table = contingency(seg, gt)
    merged, split = erroneous_ids(table, min_overlap=int(min_overlap))
    out = _member(seg, merged).astype(np.uint8)
    out += np.uint8(SPLIT) * _member(gt, split)
    return out


def summary(errors: np.ndarray) -> dict[str, int]:
    """Voxels per error kind (for status messages)."""
    counts = np.bincount(errors.ravel(), minlength=4)
    return {NAMES[k]: int(counts[k]) for k in (MERGE, SPLIT, BOTH)}
