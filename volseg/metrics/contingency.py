"""The sparse contingency table of two label volumes, computed once and shared by all metrics.

Every instance metric (adapted Rand, VOI, instance matching) is a function of the overlap
counts ``n(s, g)`` between segment ``s`` of the segmentation and segment ``g`` of the ground
truth. :func:`contingency` counts them in one pass over numpy inputs, or z-slab by z-slab over
lazy inputs (``Volume``, zarr, h5py, dask) so volumes larger than RAM work; sweeps build the
table once per decode and pass it as ``table=`` to every metric.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sparse

from volseg.errors import VolsegError
from volseg.metrics import _inputs as inp
from volseg.metrics._pairs import PairTable


@dataclass(frozen=True, eq=False)
class Contingency:
    """Overlap counts between a segmentation and a ground truth (sparse, all ids kept).

    Attributes:
        seg_ids: ``(k,)`` uint64 segmentation id of each non-empty pair, sorted by (seg, gt).
        gt_ids: ``(k,)`` uint64 ground-truth id of each pair.
        counts: ``(k,)`` int64 voxels in each pair.
        seg_labels: sorted unique segmentation ids (0 included if present).
        seg_sizes: voxels per ``seg_labels`` entry (row sums).
        gt_labels: sorted unique ground-truth ids (0 included if present).
        gt_sizes: voxels per ``gt_labels`` entry (column sums).
        seg_index: ``(k,)`` position of each pair's seg id in ``seg_labels``.
        gt_index: ``(k,)`` position of each pair's gt id in ``gt_labels``.
    """

    seg_ids: np.ndarray
    gt_ids: np.ndarray
    counts: np.ndarray
    seg_labels: np.ndarray
    seg_sizes: np.ndarray
    gt_labels: np.ndarray
    gt_sizes: np.ndarray
    seg_index: np.ndarray
    gt_index: np.ndarray

    @classmethod
    def from_pairs(cls, seg_ids: Any, gt_ids: Any, counts: Any) -> Contingency:
        """Build a table from pair lists; duplicate pairs are summed, zero counts dropped."""
        seg_ids = np.asarray(seg_ids, dtype=np.uint64).reshape(-1)
        gt_ids = np.asarray(gt_ids, dtype=np.uint64).reshape(-1)
        counts = np.asarray(counts, dtype=np.int64).reshape(-1)
        if not seg_ids.size == gt_ids.size == counts.size:
            raise VolsegError(
                f"seg_ids, gt_ids and counts must have equal lengths, got "
                f"{seg_ids.size}, {gt_ids.size} and {counts.size}."
            )
        if counts.size and counts.min() < 0:
            raise VolsegError(f"contingency counts must be >= 0, got {counts.min()}.")
        order = np.lexsort((gt_ids, seg_ids))
        seg_ids, gt_ids, counts = seg_ids[order], gt_ids[order], counts[order]
        if seg_ids.size > 1:
            new = np.empty(seg_ids.size, bool)
            new[0] = True
            new[1:] = (seg_ids[1:] != seg_ids[:-1]) | (gt_ids[1:] != gt_ids[:-1])
            if not new.all():
                starts = np.flatnonzero(new)
                seg_ids, gt_ids = seg_ids[starts], gt_ids[starts]
                counts = np.add.reduceat(counts, starts)
        keep = counts > 0
        seg_ids, gt_ids, counts = seg_ids[keep], gt_ids[keep], counts[keep]
        seg_labels, seg_index = np.unique(seg_ids, return_inverse=True)
        gt_labels, gt_index = np.unique(gt_ids, return_inverse=True)
        seg_sizes = np.zeros(seg_labels.size, np.int64)
        np.add.at(seg_sizes, seg_index, counts)
        gt_sizes = np.zeros(gt_labels.size, np.int64)
        np.add.at(gt_sizes, gt_index, counts)
        arrays = (seg_ids, gt_ids, counts, seg_labels, seg_sizes, gt_labels, gt_sizes)
        arrays += (seg_index.reshape(-1), gt_index.reshape(-1))
        for a in arrays:
            a.setflags(write=False)
        return cls(*arrays)

    def __repr__(self) -> str:
        return (
            f"Contingency(pairs={self.counts.size}, seg_labels={self.seg_labels.size}, "
            f"gt_labels={self.gt_labels.size}, voxels={self.n_voxels})"
        )

    @property
    def n_voxels(self) -> int:
        """Voxels counted (inside the mask)."""
        return int(self.counts.sum())

    def drop(self, *, seg_labels: Iterable[int] = (), gt_labels: Iterable[int] = ()) -> Contingency:
        """A table without the voxels whose seg id or gt id is in the given lists."""
        drop_seg = np.asarray(list(seg_labels), dtype=np.uint64)
        drop_gt = np.asarray(list(gt_labels), dtype=np.uint64)
        keep = np.ones(self.counts.size, bool)
        if drop_seg.size:
            keep &= ~np.isin(self.seg_ids, drop_seg)
        if drop_gt.size:
            keep &= ~np.isin(self.gt_ids, drop_gt)
        if keep.all():
            return self
        return Contingency.from_pairs(self.seg_ids[keep], self.gt_ids[keep], self.counts[keep])

    def to_sparse(self) -> sparse.csr_array:
        """The table as a ``(len(seg_labels), len(gt_labels))`` scipy CSR array of counts."""
        shape = (self.seg_labels.size, self.gt_labels.size)
        return sparse.csr_array((self.counts, (self.seg_index, self.gt_index)), shape=shape)


def contingency(seg: Any, gt: Any, *, mask: Any = None, slab_z: int | None = None) -> Contingency:
    """Count the voxels of every (seg id, gt id) pair.

    numpy inputs are read in one pass; lazy inputs (``Volume``, zarr, h5py, dask) are read in
    z-slabs of whole chunks (about 16 M voxels, or ``slab_z`` planes) into one shared table.

    Args:
        seg: segmentation labels, unsigned (or non-negative signed) integers, any id up to 2^64.
        gt: ground-truth labels, same shape.
        mask: optional boolean/integer array, same shape; voxels where it is 0 are not counted.
        slab_z: z-planes per slab for lazy inputs (default: whole chunks, ~16 M voxels).

    Returns:
        The sparse :class:`Contingency` (label 0 is counted like any id; metrics decide).

    Raises:
        VolsegError: float labels, negative labels, or shapes that differ.
    """
    names = {"seg": inp.describe(seg, "seg"), "gt": inp.describe(gt, "gt")}
    seg_a = inp.as_array_like(seg, names["seg"])
    gt_a = inp.as_array_like(gt, names["gt"])
    for name, arr in (("seg", seg_a), ("gt", gt_a)):
        inp.check_label_dtype(arr, names[name])
    inp.check_same_shape(seg_a, gt_a, names["seg"], names["gt"])
    mask_a = None
    if mask is not None:
        names["mask"] = inp.describe(mask, "mask")
        mask_a = inp.as_array_like(mask, names["mask"])
        inp.check_mask_dtype(mask_a, names["mask"])
        inp.check_same_shape(mask_a, gt_a, names["mask"], names["gt"])

    table = PairTable()
    arrays = [a for a in (seg_a, gt_a, mask_a) if a is not None]
    shape = tuple(int(s) for s in gt_a.shape)
    if all(inp.is_in_memory(a) for a in arrays) or len(shape) == 0:
        _add_block(table, seg_a[...], gt_a[...], None if mask_a is None else mask_a[...], names)
    else:
        depth = inp.slab_depth(arrays, shape, slab_z)
        for zs in inp.iter_slabs(shape[0], depth):
            block_mask = None if mask_a is None else mask_a[zs]
            _add_block(table, seg_a[zs], gt_a[zs], block_mask, names)
    return Contingency.from_pairs(*table.items())


def _add_block(table: PairTable, seg: Any, gt: Any, mask: Any, names: dict[str, str]) -> None:
    seg_flat = inp.flat_labels(seg, names["seg"])
    gt_flat = inp.flat_labels(gt, names["gt"])
    keep = None if mask is None else inp.flat_mask(mask)
    table.add(seg_flat, gt_flat, keep)
