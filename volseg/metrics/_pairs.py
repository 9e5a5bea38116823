"""Numba kernel: count (seg id, gt id) pairs in one pass with an open-addressing hash table.

Written by hand because no library does this in one pass for arbitrary uint64 ids. The
fastremap/bincount route (renumber both volumes to 0..n, then ``bincount(seg * n_gt + gt)``)
needs three full passes plus an int64 product that can overflow for large id counts, and
``np.unique`` on pair keys sorts every voxel. Here each voxel is read once; runs of equal
pairs (long along x in EM labels) are counted in registers and only a change of pair touches
the table, so the kernel runs at close to memory speed. The table is passed in and returned,
so z-slabs of a larger-than-RAM volume accumulate into the same table without a merge step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MIX_S = np.uint64(0x9E3779B97F4A7C15)
_MIX_G = np.uint64(0xC2B2AE3D27D4EB4F)
_SHIFT = np.uint64(31)


class PairTable:
    """Growable hash table of pair counts (a zero count marks an empty slot)."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        capacity = 1 << max(4, int(capacity - 1).bit_length())
        self.seg = np.zeros(capacity, np.uint64)
        self.gt = np.zeros(capacity, np.uint64)
        self.counts = np.zeros(capacity, np.int64)
        self.n_used = 0

    def add(self, seg: np.ndarray, gt: np.ndarray, keep: np.ndarray | None = None) -> None:
        """Count the pairs of two equal-length 1-D label arrays (where ``keep``, if given)."""
        if seg.size == 0:
            return
        start = 0
        while True:
            tables = (self.seg, self.gt, self.counts, self.n_used)
            if keep is None:
                start, self.n_used = _count_pairs(seg, gt, start, *tables)
            else:
                start, self.n_used = _count_pairs_masked(seg, gt, keep, start, *tables)
            if start < 0:
                return
            # The table reached its load limit: double it and resume at the pending run.
            self.seg, self.gt, self.counts = _grow(self.seg, self.gt, self.counts)

    def items(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the occupied slots as ``(seg_ids, gt_ids, counts)`` (unsorted)."""
        used = self.counts > 0
        return self.seg[used], self.gt[used], self.counts[used]


@njit(cache=True, nogil=True, inline="always")
def _insert(keys_s, keys_g, counts, s, g, c):
    """Add ``c`` to pair ``(s, g)``; return 1 if a new slot was taken, else 0."""
    mask = np.uint64(counts.size - 1)
    h = s * _MIX_S ^ (g + _MIX_S) * _MIX_G
    i = (h ^ (h >> _SHIFT)) & mask
    while True:
        if counts[i] == 0:
            keys_s[i] = s
            keys_g[i] = g
            counts[i] = c
            return 1
        if keys_s[i] == s and keys_g[i] == g:
            counts[i] += c
            return 0
        i = (i + np.uint64(1)) & mask


@njit(cache=True, nogil=True)
def _grow(keys_s, keys_g, counts):
    cap = counts.size * 2
    new_s = np.zeros(cap, np.uint64)
    new_g = np.zeros(cap, np.uint64)
    new_c = np.zeros(cap, np.int64)
    for i in range(counts.size):
        if counts[i] > 0:
            _insert(new_s, new_g, new_c, keys_s[i], keys_g[i], counts[i])
    return new_s, new_g, new_c


@njit(cache=True, nogil=True)
def _count_pairs(seg, gt, start, keys_s, keys_g, counts, n_used):
    """Count pairs from index ``start``; return ``(-1, n_used)`` when done, or
    ``(index, n_used)`` of a run not yet inserted when the table is half full."""
    limit = counts.size // 2
    last_s = np.uint64(seg[start])
    last_g = np.uint64(gt[start])
    run = 1
    run_start = start
    for i in range(start + 1, seg.size):
        s = np.uint64(seg[i])
        g = np.uint64(gt[i])
        if s == last_s and g == last_g:
            run += 1
            continue
        if n_used >= limit:
            return run_start, n_used
        n_used += _insert(keys_s, keys_g, counts, last_s, last_g, run)
        last_s = s
        last_g = g
        run = 1
        run_start = i
    if n_used >= limit:
        return run_start, n_used
    n_used += _insert(keys_s, keys_g, counts, last_s, last_g, run)
    return -1, n_used


@njit(cache=True, nogil=True)
def _count_pairs_masked(seg, gt, keep, start, keys_s, keys_g, counts, n_used):
    """As :func:`_count_pairs`, counting only voxels where ``keep`` is True (a separate
    kernel: the mask test in the loop costs ~50% when there is no mask)."""
    limit = counts.size // 2
    last_s = np.uint64(0)
    last_g = np.uint64(0)
    run = 0
    run_start = start
    for i in range(start, seg.size):
        if not keep[i]:
            continue
        s = np.uint64(seg[i])
        g = np.uint64(gt[i])
        if run > 0 and s == last_s and g == last_g:
            run += 1
            continue
        if run > 0:
            if n_used >= limit:
                return run_start, n_used
            n_used += _insert(keys_s, keys_g, counts, last_s, last_g, run)
        last_s = s
        last_g = g
        run = 1
        run_start = i
    if run > 0:
        if n_used >= limit:
            return run_start, n_used
        n_used += _insert(keys_s, keys_g, counts, last_s, last_g, run)
    return -1, n_used
