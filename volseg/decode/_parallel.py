"""Parallel variants: z-block preparation passes and a flood over independent mask components.

All kernels are compiled ``nogil``, so plain Python threads run them in parallel; the thread
count is numba's (``NUMBA_NUM_THREADS`` / ``numba.set_num_threads``).

Exactness argument for the component flood: a voxel's neighbours lie in its own connected
component of the mask (same connectivity as the flood) or outside the mask, so floods in
different components never touch. Within one component the kernel pops in (value, age) order;
ages from other components interleave in a single-threaded run but do not change the relative
order of this component's pushes, and its markers keep their raster order. So running groups of
components on separate threads gives exactly the single-threaded labels. Without a mask (or with
a connected one) there is one component and the flood itself runs on one thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cc3d
import numba
import numpy as np
from numba import njit

from volseg.decode import _prep

# Flood components in parallel only if no thread gets more than this share of the voxels.
_MAX_SHARE = 0.7


def n_threads() -> int:
    """Threads the parallel variants use (numba's setting)."""
    return max(1, numba.get_num_threads())


def n_blocks(nz: int, parallel: bool) -> int:
    """Number of z-blocks for a preparation pass (1 means: run it serially)."""
    return 1 if not parallel else max(1, min(nz, n_threads()))


def _over_blocks(fn, nz: int, nblk: int, per_block_args) -> list:
    """Run ``fn(*per_block_args(b), z0, z1)`` for each z-block, on threads when nblk > 1."""
    bounds = [(b * nz // nblk, (b + 1) * nz // nblk) for b in range(nblk)]
    if nblk == 1:
        return [fn(*per_block_args(0), 0, nz)]
    with ThreadPoolExecutor(nblk) as pool:
        futures = [pool.submit(fn, *per_block_args(b), *bounds[b]) for b in range(nblk)]
        return [f.result() for f in futures]


def key_range(bits, mask, has_mask, sign, absmask, inf_bits, nblk):
    """(kmin, kmax, has_nan) of the sortable keys inside the mask, over ``nblk`` z-blocks."""
    args = (bits, mask, has_mask, sign, absmask, inf_bits)
    parts = _over_blocks(_prep.key_range, bits.shape[0], nblk, lambda b: args)
    return min(p[0] for p in parts), max(p[1] for p in parts), any(p[2] for p in parts)


def fill_keys(bits, markers, mask, has_mask, cell, key, fused, pz, flag, sign, kmin, shift, counts):
    """Fill padded cells/keys; ``counts`` is (blocks, buckets), one histogram row per block."""
    args = (bits, markers, mask, has_mask, cell, key, fused, pz, flag, sign, kmin, shift)
    _over_blocks(_prep.fill_keys, bits.shape[0], counts.shape[0], lambda b: (*args, counts[b]))


def fill_levels(level, markers, mask, has_mask, cell, pz, flag, counts):
    """Fill padded cells; ``counts`` is (blocks, levels), one histogram row per block."""
    args = (level, markers, mask, has_mask, cell, pz, flag)
    _over_blocks(_prep.fill_levels, level.shape[0], counts.shape[0], lambda b: (*args, counts[b]))


def unpad(cell, out, pz, flag, nblk):
    """Copy the padded cells' labels into ``out`` over ``nblk`` z-blocks."""
    _over_blocks(_prep.unpad, out.shape[0], nblk, lambda b: (cell, out, pz, flag))


@njit(cache=True, nogil=True)
def _component_sizes(comps, n):
    """Voxels per component id 0..n (np.bincount would first copy the labels to intp)."""
    sizes = np.zeros(n + 1, np.int64)
    flat = comps.ravel()
    for i in range(flat.size):
        sizes[flat[i]] += 1
    sizes[0] = 0
    return sizes


@njit(cache=True, nogil=True)
def _assign_groups(order, sizes, n_groups):
    """Longest-processing-time: each component (largest first) to the least-loaded group."""
    group_of = np.zeros(sizes.size, np.int64)
    load = np.zeros(n_groups, np.int64)
    for c in order:
        g = np.argmin(load)
        group_of[c] = g
        load[g] += sizes[c]
    return group_of


@njit(cache=True, nogil=True)
def _group_tables(
    cell, comps, group_of, source, is_float, sign, pz, kmin, shift, flag, counts, nseeds
):
    """Per-group queue capacities (counts[g, bucket]) and marker counts (nseeds[g]).

    ``source`` is the unpadded level array, or float bits (``is_float``) whose sortable key
    decides the bucket ``(key - kmin) >> shift``.
    """
    nz, ny, nx = comps.shape
    kmin64 = np.uint64(kmin)
    sh = np.uint64(shift)
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                c = comps[z, y, x]
                if c == 0:
                    continue
                g = group_of[c]
                if is_float:
                    v = np.uint64(_prep.sortable_key(source[z, y, x], sign))
                else:
                    v = np.uint64(source[z, y, x])
                counts[g, np.int64((v - kmin64) >> sh)] += 1
                cv = cell[z + pz, y + 1, x + 1]
                if cv != 0 and cv < flag:
                    nseeds[g] += 1


@njit(cache=True, nogil=True)
def _group_seeds(cell, comps, group_of, pz, flag, fill, seeds):
    """Raveled marker indices grouped by component group, raster order within each group."""
    nz, ny, nx = comps.shape
    _, wy, wx = cell.shape
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                c = comps[z, y, x]
                if c == 0:
                    continue
                v = cell[z + pz, y + 1, x + 1]
                if v != 0 and v < flag:
                    g = group_of[c]
                    seeds[fill[g]] = ((z + pz) * wy + y + 1) * wx + x + 1
                    fill[g] += 1


def flood_components(work, offsets, rows, mask, *, cc_connectivity: int) -> bool:
    """Flood groups of mask components on separate threads; False if that would not pay.

    Args:
        work: prepared arrays (:class:`volseg.decode._flood.Work`); cells updated in place.
        offsets: raveled neighbour offsets.
        rows: raveled row offsets for prefetching.
        mask: the 3D (one plane for 2D) boolean mask.
        cc_connectivity: cc3d connectivity equal to the flood's neighbourhood.
    """
    from volseg.decode._flood import index_dtype, run_kernel, scratch

    threads = n_threads()
    if threads < 2:
        return False
    plane = mask[0] if mask.shape[0] == 1 else mask
    comps, n = cc3d.connected_components(plane, connectivity=cc_connectivity, return_N=True)
    if n < 2:
        return False
    comps = comps.reshape(mask.shape)
    sizes = _component_sizes(comps, n)
    order = np.argsort(-sizes[1:], kind="stable") + 1
    n_groups = min(threads, n)
    group_of = _assign_groups(order, sizes, n_groups)
    loads = np.bincount(group_of[1:], weights=sizes[1:], minlength=n_groups)
    if loads.max() > _MAX_SHARE * loads.sum():
        return False  # one component dominates: the grouping would cost more than it saves
    counts = np.zeros((n_groups, work.counts.size), np.int64)
    nseeds = np.zeros(n_groups, np.int64)
    sign = work.sign if work.exact else work.source.dtype.type(0)
    _group_tables(
        work.cell, comps, group_of, work.source, work.exact, sign, work.pz, work.kmin,
        work.shift, work.flag, counts, nseeds,
    )  # fmt: skip
    seed_start = np.zeros(n_groups + 1, np.int64)
    np.cumsum(nseeds, out=seed_start[1:])
    seeds = np.empty(seed_start[-1], index_dtype(work.cell.size))
    _group_seeds(work.cell, comps, group_of, work.pz, work.flag, seed_start[:-1].copy(), seeds)

    def run(g: int) -> None:
        group_seeds = seeds[seed_start[g] : seed_start[g + 1]]
        fifo_a, fifo_b = scratch(work, int(counts[g].sum()))
        run_kernel(work, offsets, rows, group_seeds, counts[g], fifo_a, fifo_b)

    with ThreadPoolExecutor(n_groups) as pool:
        for f in [pool.submit(run, g) for g in range(n_groups)]:
            f.result()
    return True
