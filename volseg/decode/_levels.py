"""Flood levels: the value at which the seeded watershed reaches each voxel.

The watershed kernels label a voxel when a neighbour first reaches it, with the value
``max(height, value of that neighbour)`` and pop values in increasing order, so a voxel's value
is the minimax cost of its cheapest path from any seed (the lowest possible "highest height on
the way"). That value does not depend on which seed wins a tie; blockwise decoding exchanges
it across block faces (:mod:`volseg.infer.block_flood`). Computed here with the same bucket
queue as the fast kernel (:mod:`._bucket_kernel`), on integer levels; float heights are
flooded through their ranks, which gives the same order (the minimax of a strictly
increasing transform is the transform of the minimax).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import ndimage as ndi

from volseg.decode._bucket_kernel import _prefetch_rows, bucket_bounds
from volseg.decode._flood import AHEAD
from volseg.decode._neighbours import row_offsets

FREE = np.int64(1) << 40  # a cell at FREE + rank: in the mask, not reached yet


@njit(cache=True, nogil=True)
def _flood(rank, source, mask, offsets, rows, nlev):  # pragma: no cover - compiled
    """Levels (as ranks) of the padded arrays (a False border in ``mask``, so no bounds
    tests); ``offsets`` are raveled neighbour steps, ``rows`` the rows they touch (prefetched
    ``AHEAD`` pops early, as in :mod:`._bucket_kernel`). One cell per voxel holds its state, so
    a neighbour test is one load: -1 outside the mask, ``FREE + rank`` not reached yet, else
    the level it was reached at."""
    flat = rank.ravel()
    fg = mask.ravel()
    src = source.ravel()
    n = flat.size
    cell = np.empty(n, np.int64)
    counts = np.zeros(nlev, np.int64)
    for i in range(n):
        if fg[i]:
            counts[flat[i]] += 1
            cell[i] = FREE + np.int64(flat[i])
        else:
            cell[i] = -1
    head, tail = bucket_bounds(counts)
    total = counts.sum()
    fifo = np.empty(max(total, 1), np.int64)
    now = np.empty(max(total, 1), np.int64)
    cur = nlev
    for i in range(n):
        if src[i] and fg[i]:
            level = np.int64(flat[i])
            cell[i] = level
            fifo[tail[level]] = i
            tail[level] += 1
            cur = min(cur, level)
    now_head = 0
    now_tail = 0
    nnb = offsets.size
    while cur < nlev:
        h = head[cur]
        if h < tail[cur]:
            i = fifo[h]
            head[cur] = h + 1
            if h + AHEAD < tail[cur]:
                _prefetch_rows(cell, fifo[h + AHEAD], rows)
        elif now_head < now_tail:
            i = now[now_head]
            now_head += 1
            if now_head + AHEAD < now_tail:
                _prefetch_rows(cell, now[now_head + AHEAD], rows)
        else:
            cur += 1
            while cur < nlev and head[cur] == tail[cur]:
                cur += 1
            now_head = 0
            now_tail = 0
            continue
        for k in range(nnb):
            j = i + offsets[k]
            c = cell[j]
            if c < FREE:
                continue
            level = c - FREE
            if level <= cur:
                cell[j] = cur
                now[now_tail] = j
                now_tail += 1
            else:
                cell[j] = level
                fifo[tail[level]] = j
                tail[level] += 1
    return cell.reshape(rank.shape)


def _padded(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``array`` with one zero voxel added on every side."""
    out = np.zeros(tuple(s + 2 for s in array.shape), dtype)
    out[1:-1, 1:-1, 1:-1] = array
    return out


def flood_levels(
    height: np.ndarray, sources: np.ndarray, mask: np.ndarray | None, *, connectivity: int
) -> np.ndarray:
    """The watershed's value at every voxel flooded from ``sources`` (inf where unreached).

    Args:
        height: (z, y, x) heights, integer or float; a source floods from its own height.
        sources: bool, the voxels the flood starts from.
        mask: voxels to flood (None = all).
        connectivity: 1 (6 neighbours) to 3 (26), as in the watershed.

    Returns:
        float64 levels, ``inf`` outside the mask and where no source reaches.
    """
    mask = np.ones(height.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
    if height.dtype in (np.uint8, np.uint16):  # levels are their own ranks
        ranks = np.ascontiguousarray(height)
        values = np.arange(256 if height.dtype == np.uint8 else 65536)
    else:
        values, rank = np.unique(height[mask], return_inverse=True)
        ranks = np.zeros(height.shape, np.int64)
        ranks[mask] = rank.ravel()
    footprint = ndi.generate_binary_structure(3, connectivity)
    nbrs = np.argwhere(footprint).astype(np.int64) - 1
    nbrs = nbrs[np.any(nbrs != 0, axis=1)]
    pz, py, px = (s + 2 for s in height.shape)
    offsets = (nbrs[:, 0] * py + nbrs[:, 1]) * px + nbrs[:, 2]
    rows = row_offsets(3, connectivity, (pz, py, px))
    out = _flood(
        _padded(ranks, ranks.dtype),
        _padded(sources, bool),
        _padded(mask, bool),
        offsets,
        rows,
        max(1, values.size),
    )[1:-1, 1:-1, 1:-1]
    levels = np.full(height.shape, np.inf)
    reached = (out >= 0) & (out < FREE)
    levels[reached] = values[out[reached]]
    return levels
