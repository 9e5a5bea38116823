"""Multiscale pyramids: which axes to halve per level, and block downsampling kernels.

Like anisotropic EM pyramids elsewhere, each level halves only the axes whose voxel size is
below twice the finest one: 40 x 4 x 4 nm data is halved in y and x until y, x reach about
40 nm, then in all three axes. Images are averaged; labels and masks take the most frequent
value of each block (ties go to the smallest value), so no id is ever invented.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from volseg.errors import VolsegError

MAX_LEVELS = 5
MIN_SIDE = 64


def _halved_axes(side: Sequence[int], size: Sequence[float]) -> tuple[int, ...]:
    finest = min(size)
    return tuple(2 if v < 2 * finest and n >= 2 else 1 for v, n in zip(size, side, strict=True))


def plan_factors(
    spatial_shape: Sequence[int], voxel_size: Sequence[float], *, levels: int | None
) -> list[tuple[int, int, int]]:
    """Per-level downsampling factors ``(fz, fy, fx)`` relative to the previous level.

    Args:
        spatial_shape: ``(z, y, x)`` shape of level 0.
        voxel_size: nm ``(z, y, x)`` of level 0.
        levels: total number of levels including level 0; ``None`` adds levels while the
            halved axes are at least 64 voxels long, up to 5 levels.

    Raises:
        VolsegError: ``levels`` is not a positive integer, or the array is too small for it.
    """
    if levels is not None and (not isinstance(levels, int) or levels < 1):
        raise VolsegError(f"levels must be a positive integer or None, got {levels!r}.")
    side, size = list(spatial_shape), list(voxel_size)
    out: list[tuple[int, int, int]] = []
    limit = MAX_LEVELS if levels is None else levels
    while len(out) + 1 < limit:
        factors = _halved_axes(side, size)
        halved = [n for n, f in zip(side, factors, strict=True) if f == 2]
        if not halved or (levels is None and min(halved) < MIN_SIDE):
            if levels is not None:
                raise VolsegError(
                    f"cannot make {levels} pyramid levels from shape {tuple(spatial_shape)}."
                )
            break
        out.append(factors)  # type: ignore[arg-type]
        side = [-(-n // f) for n, f in zip(side, factors, strict=True)]
        size = [v * f for v, f in zip(size, factors, strict=True)]
    return out


def _blocks_view(data: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """Pad ``data`` by edge replication to whole blocks and view it as (n0, f0, n1, f1, ...)."""
    pad = [(0, (-n) % f) for n, f in zip(data.shape, factors, strict=True)]
    if any(p for _, p in pad):
        data = np.pad(data, pad, mode="edge")
    shape = []
    for n, f in zip(data.shape, factors, strict=True):
        shape += [n // f, f]
    return data.reshape(shape)


def downsample_mean(data: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """Block means; integer images are rounded back to their dtype."""
    view = _blocks_view(data, factors)
    acc = np.float32 if data.dtype == np.float32 or data.itemsize <= 2 else np.float64
    mean = view.mean(axis=tuple(range(1, view.ndim, 2)), dtype=acc)
    if np.issubdtype(data.dtype, np.integer):
        return np.rint(mean).astype(data.dtype)
    return mean.astype(data.dtype, copy=False)


def downsample_mode(data: np.ndarray, factors: Sequence[int]) -> np.ndarray:
    """Most frequent value per block (ties: smallest value); output values are input values.

    Each block is sorted, then the longest run of equal values wins; numpy's block reducers
    (and ``scipy.stats.mode``) are far slower for the small blocks of a pyramid.
    """
    view = _blocks_view(data, factors)
    nd = data.ndim
    order = list(range(0, 2 * nd, 2)) + list(range(1, 2 * nd, 2))
    values = np.sort(view.transpose(order).reshape(-1, int(np.prod(factors))), axis=1)
    run = np.ones(
        values.shape, np.int16
    )  # run[:, j]: length of the run of equal values ending at j
    for j in range(1, values.shape[1]):
        np.add(run[:, j - 1], 1, out=run[:, j], where=values[:, j] == values[:, j - 1])
    best = run.argmax(axis=1)  # first longest run = smallest value among ties (rows sorted)
    return values[np.arange(values.shape[0]), best].reshape(view.shape[0::2])


def downsample(data: np.ndarray, factors: Sequence[int], *, method: str) -> np.ndarray:
    """``method`` is ``"mean"`` or ``"mode"``."""
    if method == "mean":
        return downsample_mean(data, factors)
    return downsample_mode(data, factors)
