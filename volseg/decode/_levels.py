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

from volseg.decode._bucket_kernel import bucket_bounds


@njit(cache=True, nogil=True)
def _flood(rank, source, mask, nbrs, nlev):  # pragma: no cover - compiled
    nz, ny, nx = rank.shape
    n = nz * ny * nx
    flat = rank.ravel()
    fg = mask.ravel()
    src = source.ravel()
    out = np.full(n, -1, np.int32)
    counts = np.zeros(nlev, np.int64)
    for i in range(n):
        if fg[i]:
            counts[flat[i]] += 1
    head, tail = bucket_bounds(counts)
    total = counts.sum()
    fifo = np.empty(max(total, 1), np.int64)
    now = np.empty(max(total, 1), np.int64)
    cur = nlev
    for i in range(n):
        if src[i] and fg[i]:
            level = np.int64(flat[i])
            out[i] = level
            fifo[tail[level]] = i
            tail[level] += 1
            cur = min(cur, level)
    now_head = 0
    now_tail = 0
    while cur < nlev:
        h = head[cur]
        if h < tail[cur]:
            i = fifo[h]
            head[cur] = h + 1
        elif now_head < now_tail:
            i = now[now_head]
            now_head += 1
        else:
            cur += 1
            while cur < nlev and head[cur] == tail[cur]:
                cur += 1
            now_head = 0
            now_tail = 0
            continue
        z = i // (ny * nx)
        y = (i // nx) % ny
        x = i % nx
        for k in range(nbrs.shape[0]):
            zz = z + nbrs[k, 0]
            yy = y + nbrs[k, 1]
            xx = x + nbrs[k, 2]
            if zz < 0 or yy < 0 or xx < 0 or zz >= nz or yy >= ny or xx >= nx:
                continue
            j = (zz * ny + yy) * nx + xx
            if not fg[j] or out[j] >= 0:
                continue
            level = np.int64(flat[j])
            if level <= cur:
                out[j] = cur
                now[now_tail] = j
                now_tail += 1
            else:
                out[j] = level
                fifo[tail[level]] = j
                tail[level] += 1
    return out.reshape(rank.shape)


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
    out = _flood(ranks, np.ascontiguousarray(sources, dtype=bool), mask, nbrs, max(1, values.size))
    levels = np.full(height.shape, np.inf)
    reached = out >= 0
    levels[reached] = values[out[reached]]
    return levels
