"""Image normalisation with per-volume statistics (``data.image_transform``).

Statistics come from the whole volume, so every patch of it (training, validation, prediction)
is normalised the same way; :func:`image_stats` reads a bounded, evenly spread sample of
chunk-aligned blocks, never the whole volume at once. Modes:

- ``0-1``: ``clip((x - low) / (high - low), 0, 1)`` where ``low`` / ``high`` are the
  ``clip_percentile_low`` / ``clip_percentile_high`` quantiles (0.0 / 1.0 = min / max).
- ``zscore``: ``(clip(x, low, high) - mean) / std`` with mean and std of the clipped sample.
- ``none``: ``x`` as float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.blocks import block_shape, iter_blocks, storage_chunks

MODES = ("0-1", "zscore", "none")
#: Voxels read at most to estimate the statistics (evenly spread blocks).
MAX_SAMPLE = 8_000_000


def _sample(data: Any, max_voxels: int) -> np.ndarray:
    shape = tuple(int(s) for s in data.shape)
    itemsize = np.dtype(data.dtype).itemsize
    unit = storage_chunks(data) or (1,) * len(shape)
    block = block_shape(shape, unit, itemsize=itemsize, target_bytes=8 * 2**20)
    blocks = list(iter_blocks(shape, block))
    per_block = math.prod(block)
    take = max(1, min(len(blocks), max_voxels // max(1, per_block)))
    picked = np.linspace(0, len(blocks) - 1, take).round().astype(int)
    parts = [np.asarray(data[blocks[i]]).ravel() for i in np.unique(picked)]
    values = np.concatenate(parts)
    if values.size > max_voxels:  # one block bigger than the budget: thin it evenly
        values = values[:: math.ceil(values.size / max_voxels)]
    return values


def image_stats(
    data: Any,
    *,
    low: float = 0.0,
    high: float = 1.0,
    max_voxels: int = MAX_SAMPLE,
    where: str = "the image",
) -> dict[str, float]:
    """Clip values and mean / std of an image (numpy, zarr, h5py or dask array).

    Args:
        data: the image, any lazily sliceable array.
        low: lower clip quantile in [0, 1].
        high: upper clip quantile in [0, 1], above ``low``.
        max_voxels: sample budget; blocks are picked evenly through the volume.
        where: name of the image for error messages.

    Returns:
        ``{"low", "high", "mean", "std"}`` as floats (``std`` is at least 1e-8 of the range).
    """
    if not 0.0 <= low < high <= 1.0:
        raise VolsegError(f"clip quantiles must satisfy 0 <= low < high <= 1, got {low}, {high}.")
    values = _sample(data, max_voxels).astype(np.float64, copy=False)
    if values.size == 0:
        raise VolsegError(f"{where} is empty; cannot compute normalisation statistics.")
    lo, hi = (float(v) for v in np.quantile(values, [low, high]))
    clipped = np.clip(values, lo, hi)
    std = float(clipped.std())
    return {"low": lo, "high": hi, "mean": float(clipped.mean()), "std": std}


def normalize(image: np.ndarray, stats: dict[str, float], *, mode: str) -> np.ndarray:
    """Normalise ``image`` with volume ``stats`` (see the module docstring); float32 out."""
    if mode not in MODES:
        raise VolsegError(f"normalize mode must be one of {', '.join(MODES)}, got {mode!r}.")
    x = np.asarray(image, dtype=np.float32)
    if mode == "none":
        return x.copy() if x is image else x
    lo, hi = np.float32(stats["low"]), np.float32(stats["high"])
    if mode == "0-1":
        span = max(float(hi - lo), 1e-8)
        out = (x - lo) / np.float32(span)
        return np.clip(out, 0.0, 1.0, out=out)
    std = np.float32(max(stats["std"], 1e-8))
    out = np.clip(x, lo, hi)
    out -= np.float32(stats["mean"])
    out /= std
    return out
