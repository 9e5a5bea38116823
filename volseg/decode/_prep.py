"""Numba passes that build the padded work arrays for the flood kernels and read them back.

Each pass works on a z-range ``[z0, z1)`` of the input so that :mod:`._parallel` can run the
same code on several ranges at once. Inputs are 3D views (a 2D image is one z-plane); the padded
arrays have one extra voxel on every padded side (``pz`` is 0 for 2D inputs, 1 for 3D).

The cell array fuses everything a neighbour test needs into one load: 0 outside the mask and on
the padding, the label once a voxel is labelled (markers from the start), and ``flag | level``
for a free voxel (fast mode; exact mode ``flag | key`` for float32 keys in uint64 cells, or
``flag`` with float64 keys in a separate array). So ``cell[j] >= flag`` means "inside the mask
and not yet labelled", and labels stay below ``flag``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def sortable_key(bits, sign):
    """Order-preserving unsigned key of an IEEE float's bit pattern (-0.0 maps like +0.0)."""
    if bits == sign:  # -0.0 compares equal to +0.0
        return sign
    if bits & sign:
        return ~bits
    return bits | sign


@njit(cache=True, nogil=True)
def key_range(bits, mask, has_mask, sign, absmask, inf_bits, z0, z1):
    """Smallest and largest sortable key inside the mask, and whether a NaN was seen there."""
    kmin = ~(sign ^ sign)
    kmax = sign ^ sign
    has_nan = False
    _, ny, nx = bits.shape
    for z in range(z0, z1):
        for y in range(ny):
            for x in range(nx):
                if has_mask and not mask[z, y, x]:
                    continue
                b = bits[z, y, x]
                if (b & absmask) > inf_bits:
                    has_nan = True
                    continue
                k = sortable_key(b, sign)
                kmin = min(kmin, k)
                kmax = max(kmax, k)
    return kmin, kmax, has_nan


@njit(cache=True, nogil=True)
def fill_keys(
    bits, markers, mask, has_mask, cell, key, fused, pz, flag, sign, kmin, shift, counts, z0, z1
):
    """Write cells and sortable keys into the padded arrays and count voxels per bucket.

    With ``fused`` a free cell holds ``flag | key`` (``key`` is not written), else ``flag``
    with the key in ``key``. The bucket of a key is ``(key - kmin) >> shift``.
    """
    _, ny, nx = bits.shape
    kmin64 = np.uint64(kmin)
    sh = np.uint64(shift)
    for z in range(z0, z1):
        zp = z + pz
        for y in range(ny):
            for x in range(nx):
                if has_mask and not mask[z, y, x]:
                    cell[zp, y + 1, x + 1] = 0
                    continue
                k = sortable_key(bits[z, y, x], sign)
                m = markers[z, y, x]
                if m != 0:
                    cell[zp, y + 1, x + 1] = m
                elif fused:
                    cell[zp, y + 1, x + 1] = flag | k
                else:
                    cell[zp, y + 1, x + 1] = flag
                if not fused:
                    key[zp, y + 1, x + 1] = k
                counts[np.int64((np.uint64(k) - kmin64) >> sh)] += 1


@njit(cache=True, nogil=True)
def fill_levels(level, markers, mask, has_mask, cell, pz, flag, counts, z0, z1):
    """Write cells (label, or ``flag | level`` when free) and count voxels per level."""
    _, ny, nx = level.shape
    for z in range(z0, z1):
        zp = z + pz
        for y in range(ny):
            for x in range(nx):
                if has_mask and not mask[z, y, x]:
                    cell[zp, y + 1, x + 1] = 0
                    continue
                v = level[z, y, x]
                m = markers[z, y, x]
                if m == 0:
                    cell[zp, y + 1, x + 1] = flag | v
                else:
                    cell[zp, y + 1, x + 1] = m
                counts[np.int64(v)] += 1


@njit(cache=True, nogil=True)
def unpad(cell, out, pz, flag, z0, z1):
    """Copy the labels in the padded cells to ``out``; unreached and outside voxels get 0."""
    _, ny, nx = out.shape
    for z in range(z0, z1):
        zp = z + pz
        for y in range(ny):
            for x in range(nx):
                v = cell[zp, y + 1, x + 1]
                if v >= flag:
                    out[z, y, x] = 0
                else:
                    out[z, y, x] = v


@njit(cache=True, nogil=True)
def seed_indices(cell_flat, flag, index_dtype_example):
    """Raveled indices of all marker voxels (labelled cells) in raster order."""
    n = 0
    for i in range(cell_flat.size):
        v = cell_flat[i]
        if v != 0 and v < flag:
            n += 1
    out = np.empty(n, dtype=index_dtype_example.dtype)
    n = 0
    for i in range(cell_flat.size):
        v = cell_flat[i]
        if v != 0 and v < flag:
            out[n] = i
            n += 1
    return out


@njit(cache=True, nogil=True)
def seed_values(seeds, values, pz, wy, wx):
    """Values (of an unpadded 3D array) at raveled padded seed indices."""
    out = np.empty(seeds.size, values.dtype)
    plane = wy * wx
    for s in range(seeds.size):
        i = np.int64(seeds[s])
        z = i // plane
        r = i - z * plane
        y = r // wx
        out[s] = values[z - pz, y - 1, r - y * wx - 1]
    return out


@njit(cache=True, nogil=True)
def seed_keys(seeds, bits, sign, pz, wy, wx):
    """Sortable keys of the (unpadded 3D) float bits at raveled padded seed indices."""
    out = np.empty(seeds.size, bits.dtype)
    plane = wy * wx
    for s in range(seeds.size):
        i = np.int64(seeds[s])
        z = i // plane
        r = i - z * plane
        y = r // wx
        out[s] = sortable_key(bits[z - pz, y - 1, r - y * wx - 1], sign)
    return out


def set_padding(arr: np.ndarray, value, pz: int) -> None:
    """Fill the one-voxel padding shell of a padded 3D work array with ``value``."""
    if pz:
        arr[0] = value
        arr[-1] = value
    arr[:, 0] = value
    arr[:, -1] = value
    arr[:, :, 0] = value
    arr[:, :, -1] = value
