"""Exact-mode flood: coarse buckets over sortable float keys, each sorted when it is reached.

Same order as scikit-image: pop the queued voxel with the smallest (value, age); a voxel is
labelled when pushed; its value is its height raised to the popped value (flooding never goes
down), so popped values never decrease. Heights become order-preserving unsigned keys (IEEE bits
with the sign folded), so comparisons are integer compares and ``(key - kmin) >> shift`` is a
monotone bucket index.

Queued voxels live in one of four places, each kept in (key, age) order by construction:

* bucket lists for buckets above ``cur``: a voxel there was pushed unclamped, so bucket ``b``
  receives only voxels whose own key is in ``b`` and needs room for exactly those (counted by
  the preparation pass). Entries are appended in push (age) order.
* the sorted run ``S``: bucket ``cur``'s list, stably sorted by key when the bucket is reached,
  so it is in (key, age) order; its next voxels are known, which lets the loop prefetch them.
* a small heap ``H`` of (key, age) for the rare pushes into bucket ``cur`` itself. They are
  younger than every entry of ``S``, so on equal keys ``S`` goes first.
* a FIFO ``Q`` of voxels pushed with exactly the key being popped (clamped ones included). They
  are younger than any entry of ``S`` or ``H`` with that key, which therefore go first; then
  ``Q``, then larger keys. Lakes and plateaus cost O(1) per voxel.

Memory: with float32 heights the key sits in the cell (``flag | key``, :mod:`._prep`), so a
neighbour test and its key cost one load; float64 keys live in a separate array. The rows of
voxels a few pops ahead in ``S`` and ``Q`` are prefetched, since consecutive pops lie far apart
and the loop is otherwise bound by cache misses.

Markers all enter scikit-image's heap with age 0 and leave it, on equal heights, in an order set
by its internal layout; here they keep raster order. This only matters for markers of equal
height.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from volseg.decode._prefetch import prefetch

_SMALL = 32  # runs up to this length are sorted by insertion


@njit(cache=True, nogil=True)
def _prefetch_rows(cell, key, fused, i, rows):
    for k in range(rows.size):
        prefetch(cell, i + rows[k])
        if not fused:
            prefetch(key, i + rows[k])


@njit(cache=True, nogil=True)
def _sift_down(hk, ha, hi, n, pos):
    """Move the entry at ``pos`` down to its place (hole technique)."""
    k = hk[pos]
    a = ha[pos]
    v = hi[pos]
    while True:
        c = 2 * pos + 1
        if c >= n:
            break
        if c + 1 < n and (hk[c + 1] < hk[c] or (hk[c + 1] == hk[c] and ha[c + 1] < ha[c])):
            c += 1
        if hk[c] < k or (hk[c] == k and ha[c] < a):
            hk[pos] = hk[c]
            ha[pos] = ha[c]
            hi[pos] = hi[c]
            pos = c
        else:
            break
    hk[pos] = k
    ha[pos] = a
    hi[pos] = v


@njit(cache=True, nogil=True)
def _sift_up(hk, ha, hi, pos):
    k = hk[pos]
    a = ha[pos]
    v = hi[pos]
    while pos > 0:
        p = (pos - 1) >> 1
        if k < hk[p] or (k == hk[p] and a < ha[p]):
            hk[pos] = hk[p]
            ha[pos] = ha[p]
            hi[pos] = hi[p]
            pos = p
        else:
            break
    hk[pos] = k
    ha[pos] = a
    hi[pos] = v


@njit(cache=True, nogil=True)
def _load_run(lists, s0, m, rkey, ridx):
    """Copy a bucket list into row 0 of (rkey, ridx), stably sorted by key.

    Lists are in age order, so a stable sort by key gives (key, age) order. Insertion sort on
    runs of ``_SMALL``, then bottom-up merges between rows 0 and 1; written out because numba's
    stable ``np.argsort(kind="mergesort")`` compiles slowly.
    """
    for r0 in range(0, m, _SMALL):
        r1 = min(r0 + _SMALL, m)
        for t in range(r0, r1):
            k = np.uint64(lists[s0 + t, 1])
            v = np.int64(lists[s0 + t, 0])
            p = t
            while p > r0 and rkey[0, p - 1] > k:
                rkey[0, p] = rkey[0, p - 1]
                ridx[0, p] = ridx[0, p - 1]
                p -= 1
            rkey[0, p] = k
            ridx[0, p] = v
    width = _SMALL
    src = 0
    while width < m:
        dst = 1 - src
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            a = lo
            b = mid
            for t in range(lo, hi):
                if a < mid and (b >= hi or rkey[src, a] <= rkey[src, b]):
                    rkey[dst, t] = rkey[src, a]
                    ridx[dst, t] = ridx[src, a]
                    a += 1
                else:
                    rkey[dst, t] = rkey[src, b]
                    ridx[dst, t] = ridx[src, b]
                    b += 1
        src = dst
        width *= 2
    if src == 1:
        for t in range(m):
            rkey[0, t] = rkey[1, t]
            ridx[0, t] = ridx[1, t]


@njit(cache=True, nogil=True)
def flood_keys(
    cell, key, fused, offsets, rows, seeds, seed_keys, counts, flag, kmin, shift, lists, same, ahead
):
    """Label every voxel reachable from the seeds, in (value, age) order.

    Args:
        cell: raveled padded cells: 0 outside, a label, or free (``flag | key`` when ``fused``,
            else ``flag``); updated in place.
        key: raveled padded sortable keys when not ``fused`` (ignored otherwise).
        fused: whether keys are stored in the cells.
        offsets: raveled neighbour offsets.
        rows: raveled offsets of the neighbourhood's rows (cache lines to prefetch).
        seeds: raveled indices of marker voxels, in raster order.
        seed_keys: sortable key of each seed voxel.
        counts: voxels per bucket (capacity of each bucket list).
        flag: the free bit of ``cell``.
        kmin: smallest key in the mask; bucket of ``k`` is ``(k - kmin) >> shift``.
        shift: bucket width in bits of key.
        lists: (counts.sum(), 2) scratch: voxel index and key of each bucket-list entry.
        same: scratch of ``counts.sum()`` voxel indices for the FIFO at the popped key.
        ahead: prefetch distance in pops.
    """
    nb = counts.size
    start = np.empty(nb, np.int64)
    fill = np.empty(nb, np.int64)
    pos = 0
    for b in range(nb):
        start[b] = pos
        fill[b] = pos
        pos += counts[b]
    kmin64 = np.uint64(kmin)
    sh = np.uint64(shift)
    nnb = offsets.size
    # S and H only ever hold voxels whose own key is in bucket ``cur``: the largest bucket
    # bounds them. Fixed arrays also keep numba from reference counting inside the loop.
    cap = counts.max() if nb else 0
    rkey = np.empty((2, cap), np.uint64)  # row 0: the sorted run S; row 1: merge scratch
    ridx = np.empty((2, cap), np.int64)
    hk = np.empty(cap, np.uint64)
    ha = np.empty(cap, np.uint64)
    hi = np.empty(cap, np.int64)
    for s in range(seeds.size):
        k = np.uint64(seed_keys[s])
        b = np.int64((k - kmin64) >> sh)
        f = fill[b]
        lists[f, 0] = seeds[s]
        lists[f, 1] = k
        fill[b] = f + 1
    age = np.uint64(0)
    cur = -1
    popped = np.uint64(0)
    sp = 0
    sn = 0
    n = 0
    q_head = 0
    q_tail = 0
    while True:
        src = 0
        ck = popped
        if sp < sn:
            src = 1
            ck = rkey[0, sp]
        if n > 0 and (src == 0 or hk[0] < ck):
            src = 2
            ck = hk[0]
        if q_head < q_tail and (src == 0 or ck != popped):
            i = np.int64(same[q_head])
            q_head += 1
            if q_head + ahead < q_tail:
                _prefetch_rows(cell, key, fused, np.int64(same[q_head + ahead]), rows)
            elif q_head == q_tail:
                q_head = 0
                q_tail = 0
        elif src == 1:
            i = ridx[0, sp]
            popped = ck
            sp += 1
            if sp + ahead < sn:
                _prefetch_rows(cell, key, fused, ridx[0, sp + ahead], rows)
        elif src == 2:
            i = hi[0]
            popped = ck
            n -= 1
            if n > 0:
                hk[0] = hk[n]
                ha[0] = ha[n]
                hi[0] = hi[n]
                _sift_down(hk, ha, hi, n, 0)
        else:
            cur += 1
            while cur < nb and fill[cur] == start[cur]:
                cur += 1
            if cur == nb:
                return
            sn = fill[cur] - start[cur]
            sp = 0
            _load_run(lists, start[cur], sn, rkey, ridx)
            for t in range(min(ahead, sn)):
                _prefetch_rows(cell, key, fused, ridx[0, t], rows)
            continue
        label = cell[i]
        for k in range(nnb):
            j = i + offsets[k]
            c = cell[j]
            if c >= flag:
                cell[j] = label
                if fused:
                    kj = np.uint64(c ^ flag)
                else:
                    kj = np.uint64(key[j])
                if kj <= popped:
                    same[q_tail] = j
                    q_tail += 1
                else:
                    b = np.int64((kj - kmin64) >> sh)
                    if b == cur:
                        _prefetch_rows(cell, key, fused, j, rows)
                        hk[n] = kj
                        ha[n] = age
                        hi[n] = j
                        _sift_up(hk, ha, hi, n)
                        n += 1
                        age += np.uint64(1)
                    else:
                        f = fill[b]
                        lists[f, 0] = j
                        lists[f, 1] = kj
                        fill[b] = f + 1
