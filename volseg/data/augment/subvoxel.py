"""Sub-voxel shift: move the image by a random fraction of a voxel; labels and mask stay.

Training on a fixed grid shows the network every structure at one phase of that grid. Data
resampled on the fly from a finer grid (Lucchi++ at 5 nm read at 10 nm) sees every phase, and
trains a network that generalises better to a new volume. This transform gives a fixed grid the
same variety: with probability ``prob`` the image is shifted by a uniform ``[-m, m]`` voxels on
each axis (``m = max_shift``, at most half a voxel) with linear interpolation; labels and mask
keep their grid, as the nearest-neighbour label rule of resampling does for shifts under half a
voxel. Axes with ``m = 0`` (z for 2D networks, whose patches are one slice) are not touched.
Written with ``scipy.ndimage.shift``: the interpolation is scipy's, only the policy is ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class SubvoxelShift:
    """Image shifted by a random sub-voxel offset (see the module docstring)."""

    prob: float
    max_shift: Sequence[float]

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if rng.random() >= self.prob:
            return image, labels, mask
        shift = [
            float(rng.uniform(-m, m)) if m > 0 and n > 1 else 0.0
            for m, n in zip(self.max_shift, image.shape, strict=True)
        ]
        if not any(shift):
            return image, labels, mask
        out = ndimage.shift(
            np.asarray(image, dtype=np.float32), shift, order=1, mode="nearest", prefilter=False
        )
        return out.astype(np.float32, copy=False), labels, mask
