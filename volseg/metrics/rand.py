"""Adapted Rand error (SNEMI3D / CREMI) with its precision and recall.

Definitions (``n_sg`` voxels in seg segment ``s`` and gt segment ``g``, ``a_s``/``b_g`` the
segment sizes, ``f`` a pair count, ``f(n) = n (n - 1)`` by default):

* precision = sum f(n_sg) / sum f(a_s): of the voxel pairs the segmentation puts together,
  the fraction the ground truth also puts together (merges lower it);
* recall = sum f(n_sg) / sum f(b_g): of the pairs the ground truth puts together, the
  fraction the segmentation keeps together (splits lower it);
* ARE = 1 - sum f(n_sg) / (0.5 sum f(a_s) + 0.5 sum f(b_g)) = 1 - F-score.

Conventions, and how they relate to other implementations:

* Ground-truth voxels with an ``ignore_labels`` id (default 0) and voxels outside ``mask`` are
  left out. Segmentation id 0 is, by default (``seg_background="label"``), one ordinary segment,
  as in ``skimage.metrics.adapted_rand_error``. With ``"singletons"`` every segmentation
  voxel with id 0 is its own segment, as in the CREMI/SNEMI3D scripts (unlabelled voxels can
  then only lower recall, never precision).
* ``pairs="distinct"`` counts pairs of distinct voxels, ``n (n - 1)``, as scikit-image does;
  ``pairs="squared"`` uses ``n**2`` (every voxel also paired with itself), as the SNEMI3D and
  CREMI scripts do. The two differ by O(1 / segment size).
* With ``seg_background="label"`` and ``pairs="distinct"`` the ARE equals
  ``skimage.metrics.adapted_rand_error(gt, seg)[0]``, and volseg's precision and recall equal
  skimage's recall and precision: skimage (checked with 0.26) returns the two swapped
  relative to its own docstring (scikit-image issue #6485; its "precision" is normalised by
  the ground-truth pairs).
* CREMI's ``adapted_rand`` adds ``sum(c) / n`` for the ``c`` background voxels instead of
  ``sum(c)`` (a units slip, cremi_python issue #3); volseg's ``"singletons"`` + ``"squared"``
  is the corrected formula.
* Degenerate cases: when no pair exists on one side (e.g. every segment is a single voxel)
  the ratio 0/0 counts as 1.0 (nothing wrongly merged or split); skimage returns NaN there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

from volseg.errors import VolsegError
from volseg.metrics import _table
from volseg.metrics.contingency import Contingency


def adapted_rand(
    seg: Any = None,
    gt: Any = None,
    *,
    mask: Any = None,
    ignore_labels: Iterable[int] = (0,),
    seg_background: Literal["label", "singletons"] = "label",
    pairs: Literal["distinct", "squared"] = "distinct",
    table: Contingency | None = None,
) -> tuple[float, float, float]:
    """Adapted Rand error with precision and recall (see the module docstring for conventions).

    Args:
        seg: segmentation labels (integers, 0 = background).
        gt: ground-truth labels, same shape.
        mask: optional boolean array; only voxels where it is True count.
        ignore_labels: ground-truth ids left out of the score (default: 0).
        seg_background: ``"label"`` (seg id 0 is one segment, as skimage) or ``"singletons"``
            (each seg-0 voxel its own segment, as CREMI).
        pairs: ``"distinct"`` (n(n-1), as skimage) or ``"squared"`` (n^2, as SNEMI3D/CREMI).
        table: a precomputed :func:`~volseg.metrics.contingency` (seg, gt, mask are then not read).

    Returns:
        ``(are, precision, recall)``; precision drops with false merges, recall with splits.

    Raises:
        VolsegError: bad inputs, or no ground-truth voxel left after mask and ignore_labels.
    """
    _table.check_seg_background(seg_background)
    if pairs not in ("distinct", "squared"):
        raise VolsegError(f"pairs must be 'distinct' or 'squared', got {pairs!r}.")
    t = _table.without_ignored(
        _table.resolve_table(seg, gt, mask, table), ignore_labels, "adapted Rand"
    )
    squared = pairs == "squared"

    def f(n: np.ndarray) -> float:
        n = n.astype(np.float64)
        return float(np.sum(n * n if squared else n * (n - 1.0)))

    sum_joint = f(t.counts)
    sum_seg = f(t.seg_sizes)
    sum_gt = f(t.gt_sizes)
    if seg_background == "singletons" and t.seg_labels.size and t.seg_labels[0] == 0:
        # Seg-0 voxels become singletons: remove segment 0's pairs; with squared counts each
        # singleton still pairs with itself once on both sides.
        bg = _table.background_pairs(t)
        n_bg = float(t.seg_sizes[0])
        sum_joint += -f(t.counts[bg]) + (n_bg if squared else 0.0)
        sum_seg += -f(t.seg_sizes[:1]) + (n_bg if squared else 0.0)
    precision = sum_joint / sum_seg if sum_seg > 0 else 1.0
    recall = sum_joint / sum_gt if sum_gt > 0 else 1.0
    denominator = 0.5 * sum_seg + 0.5 * sum_gt
    are = 1.0 - sum_joint / denominator if denominator > 0 else 0.0
    return float(are), float(precision), float(recall)
