"""Variation of information, split into its false-split and false-merge parts (bits).

``split = H(seg | gt)`` and ``merge = H(gt | seg)``, conditional entropies in bits (log base 2)
of the joint distribution ``p_sg = n_sg / N`` over the voxels that count (inside ``mask`` and
not an ignored ground-truth id). VOI = split + merge; 0 means identical partitions.

With ``ignore_labels`` passed the same way, ``(split, merge)`` equals
``skimage.metrics.variation_of_information(gt, seg, ignore_labels=...)`` (whose default is
``()``; volseg's default ignores gt id 0). Segmentation id 0 is an ordinary segment by default;
``seg_background="singletons"`` makes every seg-0 voxel its own segment (no merge
contribution; each adds ``log2(size of its gt segment) / N`` to the split).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

from volseg.metrics import _table
from volseg.metrics.contingency import Contingency


def voi(
    seg: Any = None,
    gt: Any = None,
    *,
    mask: Any = None,
    ignore_labels: Iterable[int] = (0,),
    seg_background: Literal["label", "singletons"] = "label",
    table: Contingency | None = None,
) -> tuple[float, float]:
    """Variation of information ``(split, merge)`` in bits.

    Args:
        seg: segmentation labels (integers, 0 = background).
        gt: ground-truth labels, same shape.
        mask: optional boolean array; only voxels where it is True count.
        ignore_labels: ground-truth ids left out of the score (default: 0).
        seg_background: ``"label"`` (seg id 0 is one segment) or ``"singletons"``.
        table: a precomputed :func:`~volseg.metrics.contingency` (seg, gt, mask are then not read).

    Returns:
        ``(split, merge)`` = ``(H(seg|gt), H(gt|seg))`` in bits; split grows with
        over-segmentation, merge with under-segmentation.

    Raises:
        VolsegError: bad inputs, or no ground-truth voxel left after mask and ignore_labels.
    """
    _table.check_seg_background(seg_background)
    t = _table.without_ignored(_table.resolve_table(seg, gt, mask, table), ignore_labels, "VOI")
    n = float(t.n_voxels)
    counts = t.counts.astype(np.float64)
    gt_size = t.gt_sizes[t.gt_index].astype(np.float64)
    seg_size = t.seg_sizes[t.seg_index].astype(np.float64)
    split_terms = -counts / n * np.log2(counts / gt_size)
    merge_terms = -counts / n * np.log2(counts / seg_size)
    if seg_background == "singletons":
        bg = _table.background_pairs(t)
        split_terms[bg] = counts[bg] / n * np.log2(gt_size[bg])
        merge_terms[bg] = 0.0
    return float(split_terms.sum()) + 0.0, float(merge_terms.sum()) + 0.0
