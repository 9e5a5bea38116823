"""Driver: build the padded work arrays, run a flood kernel, read the labels back.

Inputs arrive as 3D views (a 2D image is one z-plane, padded in y and x only). Exact mode
floods float heights through sortable integer keys (:mod:`._heap_kernel`); fast mode floods
integer levels (:mod:`._bucket_kernel`). ``parallel=True`` runs the preparation passes on
z-blocks in parallel and the flood itself on independent mask components (:mod:`._parallel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from volseg.decode import _parallel, _prep
from volseg.decode._bucket_kernel import flood_levels
from volseg.decode._heap_kernel import flood_keys
from volseg.errors import VolsegError

# Exact mode aims for about 2**16 buckets over the key range: a bucket then holds few voxels
# (a small, cache-resident heap) and the bucket tables stay small.
_BUCKET_BITS = 16
# Prefetch distance in pops: far enough to cover a cache miss, near enough to stay in cache.
AHEAD = 8
_FLOAT_BITS = {
    np.dtype(np.float32): (np.uint32, 0x80000000, 0x7FFFFFFF, 0x7F800000),
    np.dtype(np.float64): (np.uint64, 1 << 63, (1 << 63) - 1, 0x7FF0000000000000),
}


@dataclass
class Work:
    """Padded work arrays and queue sizing for one flood."""

    cell: np.ndarray
    flag: np.unsignedinteger
    counts: np.ndarray
    pz: int
    source: np.ndarray  # unpadded 3D levels (fast) or float bits (exact), for seed values
    exact: bool = False
    fused: bool = False  # exact mode: keys stored in the cells
    key: np.ndarray | None = None  # exact mode, not fused: padded sortable keys
    sign: np.unsignedinteger | None = None
    kmin: np.uint64 = np.uint64(0)
    shift: int = 0


def index_dtype(n: int) -> type:
    """Smallest signed integer type for raveled indices into ``n`` voxels."""
    return np.int32 if n < 2**31 else np.int64


def _flag(dtype: type) -> np.unsignedinteger:
    return dtype(1 << (8 * np.dtype(dtype).itemsize - 1))


def prepare(
    height: np.ndarray,
    markers: np.ndarray,
    mask: np.ndarray | None,
    *,
    cell_dtype: type,
    pz: int,
    parallel: bool,
) -> Work | None:
    """Fill the padded cell (and key) arrays; None when the mask is empty.

    ``cell_dtype`` (fast mode) must hold every marker id below its top bit; exact mode uses
    uint64 cells (they hold float32 keys next to the free bit).

    Raises:
        VolsegError: a float height inside the mask is NaN.
    """
    nz, ny, nx = height.shape
    wshape = (nz + 2 * pz, ny + 2, nx + 2)
    has_mask = mask is not None
    mask_arg = mask if has_mask else np.zeros((1, 1, 1), bool)
    nblk = _parallel.n_blocks(nz, parallel)
    if height.dtype.kind != "f":
        flag = _flag(cell_dtype)
        cell = np.empty(wshape, cell_dtype)
        _prep.set_padding(cell, 0, pz)
        counts = np.zeros((nblk, 256 if height.dtype == np.uint8 else 65536), np.int64)
        _parallel.fill_levels(height, markers, mask_arg, has_mask, cell, pz, flag, counts)
        counts = counts.sum(axis=0)
        return Work(cell, flag, counts, pz, height) if counts.any() else None
    bits_dtype, sign, absmask, inf_bits = _FLOAT_BITS[height.dtype]
    bits = height.view(bits_dtype)
    sign = bits_dtype(sign)
    kmin, kmax, nan = _parallel.key_range(
        bits, mask_arg, has_mask, sign, bits_dtype(absmask), bits_dtype(inf_bits), nblk
    )
    if nan:
        raise VolsegError("height contains NaN inside the mask; fill or mask it out first.")
    if kmin > kmax:
        return None
    kmin = np.uint64(kmin)  # numpy scalar: keys of positive float64 exceed int64
    fused = bits_dtype is np.uint32
    flag = _flag(np.uint64)  # uint64 cells hold float32 keys; one kernel variant for both
    cell = np.empty(wshape, np.uint64)
    _prep.set_padding(cell, 0, pz)
    key = np.zeros((1, 1, 1), bits_dtype) if fused else np.empty(wshape, bits_dtype)
    shift = max(0, (int(kmax) - int(kmin)).bit_length() - _BUCKET_BITS)
    counts = np.zeros((nblk, ((int(kmax) - int(kmin)) >> shift) + 1), np.int64)
    _parallel.fill_keys(
        bits, markers, mask_arg, has_mask, cell, key, fused, pz, flag, sign, kmin, shift, counts
    )
    return Work(
        cell, flag, counts.sum(axis=0), pz, bits, exact=True, fused=fused, key=key, sign=sign,
        kmin=kmin, shift=shift,
    )  # fmt: skip


def run_kernel(work: Work, offsets, rows, seeds, counts, fifo_a, fifo_b) -> None:
    """One single-threaded flood from ``seeds`` with queue capacities ``counts``.

    ``fifo_a``/``fifo_b`` are scratch of ``counts.sum()`` entries: (fifo, now) in fast mode,
    (lists with 2 columns, same) in exact mode.
    """
    cell = work.cell.ravel()
    _, wy, wx = work.cell.shape
    if not work.exact:
        seed_levels = _prep.seed_values(seeds, work.source, work.pz, wy, wx)
        flood_levels(
            cell, offsets, rows, seeds, seed_levels, counts, work.flag, fifo_a, fifo_b, AHEAD
        )
    else:
        seed_keys = _prep.seed_keys(seeds, work.source, work.sign, work.pz, wy, wx)
        flood_keys(
            cell, work.key.ravel(), work.fused, offsets, rows, seeds, seed_keys, counts,
            work.flag, work.kmin, work.shift, fifo_a, fifo_b, AHEAD,
        )  # fmt: skip


def scratch(work: Work, total: int) -> tuple[np.ndarray, np.ndarray]:
    """Queue storage for ``total`` voxels (see :func:`run_kernel`)."""
    idx = index_dtype(work.cell.size)
    if not work.exact:
        return np.empty(total, idx), np.empty(total, idx)
    wide = work.cell.size >= 2**31 or work.source.dtype == np.uint64
    return np.empty((total, 2), np.uint64 if wide else np.uint32), np.empty(total, idx)


def flood_serial(work: Work, offsets: np.ndarray, rows: np.ndarray) -> None:
    """Run the single-threaded kernel on the whole work array (cells updated in place)."""
    cell = work.cell.ravel()
    seeds = _prep.seed_indices(cell, work.flag, np.zeros(1, index_dtype(cell.size)))
    run_kernel(work, offsets, rows, seeds, work.counts, *scratch(work, int(work.counts.sum())))


def read_back(
    work: Work, shape: tuple[int, int, int], out_dtype: np.dtype, *, parallel: bool
) -> np.ndarray:
    """Labels of the unpadded volume (outside the mask and unreached voxels 0)."""
    out = np.empty(shape, out_dtype)
    _parallel.unpad(work.cell, out, work.pz, work.flag, _parallel.n_blocks(shape[0], parallel))
    return out
