"""Realistic affinity maps for the blockwise affinity tests and ``benchmarks/blockwise_affinity.py``
(one copy): oracle affinities of labels, smoothed, with seeded noise, in [0, 1], written as
float32 maps whose ``volseg_maps`` record names the channels and their offsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

from volseg.data.affinity import affinities
from volseg.io import write_volume
from volseg.maps import add_offsets, describe
from volseg.offsets import PRESETS

OFFSETS = [list(o) for o in PRESETS["isotropic-9"]]
VOXEL = (10.0, 10.0, 10.0)


def noisy_affinities(
    labels: np.ndarray,
    *,
    sigma: float = 1.5,
    power: float = 4.0,
    noise: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """Oracle affinities of ``labels`` (isotropic-9), blurred by ``sigma`` voxels and raised
    to ``power`` (a blurred one-voxel boundary alone stays near 0.7; the power darkens it to
    below 0.3, as in predictions), plus gaussian noise of standard deviation ``noise``,
    clipped to [0, 1] (float32)."""
    affs = np.clip(affinities(labels, OFFSETS), 0, 1)
    rng = np.random.default_rng(seed)
    out = np.empty(affs.shape, dtype=np.float32)
    for k in range(len(affs)):
        smooth = gaussian_filter(affs[k], sigma) ** power
        out[k] = np.clip(smooth + rng.normal(0.0, noise, smooth.shape), 0, 1)
    return out


def write_affinity_maps(path: Path | str, affs: np.ndarray, *, chunks: int = 32) -> str:
    """``affs`` written as float32 maps with the channel names and offsets recorded."""
    attrs = add_offsets(describe(["affinity"] * len(affs)), OFFSETS, VOXEL)
    write_volume(path, affs, voxel_size=VOXEL, kind="maps", chunks=(len(affs), *(chunks,) * 3),
                 levels=1, attrs=attrs)  # fmt: skip
    return str(path)
