"""Fast-mode flood: hierarchical FIFO (bucket) queue over integer levels.

scikit-image's watershed pops the queued voxel with the smallest (value, age), where age is
the push counter and a voxel takes its label when pushed, so each voxel is pushed at most once.
A voxel's value is its height raised to the value of the voxel that pushed it (flooding never
goes down), so popped values never decrease. With integer heights one FIFO per level therefore
pops in exactly (value, age) order: pushes into a level happen in increasing age.

Storage: levels above the current one receive only voxels whose own height is that level, so
level ``l`` needs room for exactly the voxels of height ``l`` in the mask (counted by the
preparation pass); all those FIFOs are slices of one preallocated array. Pushes at the current
level (a voxel at or below it) are younger than everything already waiting there, so they go to
a second FIFO that is drained after the level's slice.

Memory: one load per neighbour test (the cell holds state, label and level, see :mod:`._prep`),
and the rows of the voxel ``ahead`` pops away are prefetched, since a level's voxels are spread
over the whole volume and the loop is otherwise bound by cache misses.

The one difference from scikit-image: all markers enter its heap with age 0, and the heap
pops markers of equal height in an order set by its internal layout; here they pop in raster
order. Labels can differ only where fronts of different labels meet on a plateau.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from volseg.decode._prefetch import prefetch


@njit(cache=True, nogil=True)
def _prefetch_rows(cell, i, rows):
    for k in range(rows.size):
        prefetch(cell, i + rows[k])


@njit(cache=True, nogil=True)
def bucket_bounds(counts):
    """Start of each level's bucket in one flat FIFO (an exclusive prefix sum of ``counts``),
    as ``(head, tail)``: pop position and push position, equal while a bucket is empty."""
    nlev = counts.size
    head = np.empty(nlev, np.int64)
    tail = np.empty(nlev, np.int64)
    pos = 0
    for level in range(nlev):
        head[level] = pos
        tail[level] = pos
        pos += counts[level]
    return head, tail


@njit(cache=True, nogil=True)
def flood_levels(cell, offsets, rows, seeds, seed_levels, counts, flag, fifo, now, ahead):
    """Label every voxel reachable from the seeds, in (value, age) order.

    Args:
        cell: raveled padded cells (0 outside, label, or ``flag | level``); updated in place.
        offsets: raveled neighbour offsets.
        rows: raveled offsets of the neighbourhood's rows (cache lines to prefetch).
        seeds: raveled indices of marker voxels, in raster order.
        seed_levels: level of each seed voxel.
        counts: voxels per level (capacity of each level's FIFO).
        flag: the free-voxel bit of ``cell``.
        fifo: scratch of at least ``counts.sum()`` entries (int32 or int64).
        now: scratch of the same size for the current level's second FIFO.
        ahead: prefetch distance in pops.
    """
    nlev = counts.size
    head, tail = bucket_bounds(counts)
    nnb = offsets.size
    cur = nlev
    for s in range(seeds.size):
        level = np.int64(seed_levels[s])
        fifo[tail[level]] = seeds[s]
        tail[level] += 1
        cur = min(cur, level)
    now_head = 0
    now_tail = 0
    while cur < nlev:
        h = head[cur]
        if h < tail[cur]:
            i = np.int64(fifo[h])
            head[cur] = h + 1
            if h + ahead < tail[cur]:
                _prefetch_rows(cell, np.int64(fifo[h + ahead]), rows)
        elif now_head < now_tail:
            i = np.int64(now[now_head])
            now_head += 1
            if now_head + ahead < now_tail:
                _prefetch_rows(cell, np.int64(now[now_head + ahead]), rows)
        else:
            cur += 1
            while cur < nlev and head[cur] == tail[cur]:
                cur += 1
            now_head = 0
            now_tail = 0
            continue
        label = cell[i]
        for k in range(nnb):
            j = i + offsets[k]
            c = cell[j]
            if c >= flag:
                cell[j] = label
                level = np.int64(c ^ flag)
                if level <= cur:
                    now[now_tail] = j
                    now_tail += 1
                else:
                    t = tail[level]
                    fifo[t] = j
                    tail[level] = t + 1
