"""Linear quantisation of float heights to uint8/uint16 levels for the fast (bucket) mode."""

from __future__ import annotations

import numpy as np
from numba import njit

from volseg.errors import VolsegError


@njit(cache=True, nogil=True)
def _value_range(height, mask, has_mask):
    lo = np.inf
    hi = -np.inf
    nan = False
    n = 0
    for i in range(height.size):
        if has_mask and not mask[i]:
            continue
        v = height[i]
        if v != v:
            nan = True
            continue
        lo = min(lo, v)
        hi = max(hi, v)
        n += 1
    return lo, hi, nan, n


@njit(cache=True, nogil=True)
def _quantise_into(height, mask, has_mask, lo, scale, top, out):
    for i in range(height.size):
        if has_mask and not mask[i]:
            out[i] = 0
            continue
        q = np.floor((height[i] - lo) * scale + 0.5)
        out[i] = min(max(q, 0.0), top)


def quantise(height: np.ndarray, *, levels: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Map float heights linearly onto ``levels`` integer levels (uint8 or uint16).

    The smallest height inside ``mask`` becomes level 0 and the largest ``levels - 1``;
    ``q = floor((h - min) * (levels - 1) / (max - min) + 0.5)``. Voxels outside the mask get 0.
    Order is preserved (ties may appear, none disappear).

    Raises:
        VolsegError: ``levels`` is not 256 or 65536, or a height inside the mask is NaN/inf.
    """
    if levels not in (256, 65536):
        raise VolsegError(f"levels must be 256 or 65536, got {levels!r}.")
    flat = np.ascontiguousarray(height).ravel()
    has_mask = mask is not None
    mflat = np.ascontiguousarray(mask).ravel() if has_mask else np.zeros(1, bool)
    lo, hi, nan, n = _value_range(flat, mflat, has_mask)
    if nan:
        raise VolsegError("height contains NaN inside the mask; fill or mask it out first.")
    if n and not (np.isfinite(lo) and np.isfinite(hi)):
        raise VolsegError(f"height must be finite to be quantised, found range [{lo}, {hi}].")
    dtype = np.uint8 if levels == 256 else np.uint16
    out = np.empty(flat.size, dtype)
    top = float(levels - 1)
    scale = top / (hi - lo) if n and hi > lo else 0.0
    _quantise_into(flat, mflat, has_mask, lo if n else 0.0, scale, top, out)
    return out.reshape(height.shape)
