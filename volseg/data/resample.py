"""Resampling between the data grid and the training grid (``data.train_resolution``).

A patch of ``P`` training voxels covers ``data_extent(P, voxel_size, resolution)`` data voxels
(``round(P * resolution / voxel_size)`` per axis). Images are resampled by *area* (block mean)
when every axis shrinks by a whole factor and by linear interpolation otherwise; labels and masks
by nearest neighbour, so they never gain new ids. Both use the pixel-centre convention: output
voxel ``i`` covers input ``[i * f, (i + 1) * f)`` with ``f = in / out``, so image and labels stay
aligned. Labels and metrics stay on the data grid at inference; only the network's input and its
maps move between grids.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from volseg.errors import VolsegError

Shape = tuple[int, int, int]


def data_extent(
    patch: Sequence[int], voxel_size: Sequence[float], resolution: Sequence[float] | None
) -> Shape:
    """Data-grid voxels covered by a ``patch`` of training-grid voxels (at least 1 per axis)."""
    if resolution is None:
        return tuple(int(p) for p in patch)  # type: ignore[return-value]
    return tuple(
        max(1, int(round(p * r / v))) for p, r, v in zip(patch, resolution, voxel_size, strict=True)
    )  # type: ignore[return-value]


def _check(array: np.ndarray, shape: Sequence[int]) -> Shape:
    out = tuple(int(s) for s in shape)
    if array.ndim != 3 or len(out) != 3 or min(out) < 1:
        raise VolsegError(
            f"resampling needs a (z, y, x) array and a 3-entry positive shape, got array shape "
            f"{array.shape} and target {tuple(shape)}."
        )
    return out  # type: ignore[return-value]


def _block_mean(image: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """Mean over ``factors`` blocks. Summing the strided sub-grids is ~8x faster than
    ``reshape(...).mean(axis=(1, 3, 5))`` for small factors (numpy reduces badly over
    interleaved axes)."""
    offsets = list(itertools.product(*(range(f) for f in factors)))
    if len(offsets) > 64:
        split = [d for m, f in zip(image.shape, factors, strict=True) for d in (m // f, f)]
        return image.reshape(split).mean(axis=(1, 3, 5), dtype=np.float32)
    fz, fy, fx = factors
    out = np.zeros([n // f for n, f in zip(image.shape, factors, strict=True)], np.float32)
    for oz, oy, ox in offsets:
        out += image[oz::fz, oy::fy, ox::fx]
    out *= np.float32(1.0 / len(offsets))
    return out


def resample_image(image: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Resample an image to ``shape`` (float32): block mean for whole-factor shrinking,
    otherwise linear interpolation at pixel centres (``mode='nearest'`` at the edges)."""
    out = _check(image, shape)
    image = np.asarray(image, dtype=np.float32)
    if out == image.shape:
        return image
    factors = [n // m if n % m == 0 else 0 for n, m in zip(image.shape, out, strict=True)]
    if all(factors):
        return _block_mean(image, factors)
    zoom = [m / n for n, m in zip(image.shape, out, strict=True)]
    res = ndimage.zoom(image, zoom, order=1, mode="nearest", grid_mode=True)
    return res.astype(np.float32, copy=False)


def resample_nearest(array: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Nearest-neighbour resampling of labels or a mask to ``shape`` (dtype kept).

    Output voxel ``i`` takes input voxel ``floor((i + 0.5) * n / m)``, the one under its centre;
    written as index arithmetic because it is exact and far cheaper than an interpolator.
    """
    out = _check(array, shape)
    if out == array.shape:
        return array
    index = [
        np.minimum((np.arange(m) * 2 + 1) * n // (2 * m), n - 1)
        for n, m in zip(array.shape, out, strict=True)
    ]
    return array[np.ix_(*index)]
