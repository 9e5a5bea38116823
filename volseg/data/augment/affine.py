"""Random affine transform (rotation, scaling, shear) in physical space.

The matrix is built in nanometres, so rotations stay rigid on anisotropic voxels, then
expressed in voxels: ``M = S^-1 (R Sh Sc) S`` with ``S = diag(voxel_size)``; the patch centre is
fixed. ``rotate_range[i]``: angle (radians, uniform in +-range) about axis i (0 = z: the y-x
plane). ``scale_range[i]``: axis i scales by ``1 + u``, ``u`` uniform in +-range.
``shear_range[i]``: axis i shifts by ``u`` (uniform in +-range) times the position along its
partner axis (z with y, y with x, x with y), so ``[0, s, s]`` shears only in-plane. Image linear,
labels and mask nearest (see :mod:`volseg.data.augment._warp`), reflecting at the border.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from volseg.data.augment._warp import centred, warp

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]
#: The axis each axis is sheared against (z with y, y with x, x with y).
SHEAR_PARTNER = (1, 2, 1)


def _rotation(axis: int, angle: float) -> np.ndarray:
    a, b = [i for i in range(3) if i != axis]
    m = np.eye(3)
    c, s = np.cos(angle), np.sin(angle)
    m[a, a], m[a, b], m[b, a], m[b, b] = c, -s, s, c
    return m


def affine_matrix(
    angles: Sequence[float],
    scales: Sequence[float],
    shears: Sequence[float],
    voxel_size: Sequence[float],
) -> np.ndarray:
    """Voxel-space 3x3 matrix (output position -> input position, both centred)."""
    rot = _rotation(0, angles[0]) @ _rotation(1, angles[1]) @ _rotation(2, angles[2])
    shear = np.eye(3)
    for axis, s in enumerate(shears):
        shear[axis, SHEAR_PARTNER[axis]] += s
    physical = rot @ shear @ np.diag(scales)
    size = np.asarray(voxel_size, dtype=np.float64)
    return np.diag(1.0 / size) @ physical @ np.diag(size)


@dataclass(frozen=True)
class Affine:
    """Random affine warp with probability ``prob`` (ranges as in the module docstring)."""

    prob: float
    rotate_range: Sequence[float]
    scale_range: Sequence[float]
    shear_range: Sequence[float]
    voxel_size: Sequence[float]

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if rng.random() >= self.prob:
            return image, labels, mask
        angles = [rng.uniform(-r, r) for r in self.rotate_range]
        scales = [1.0 + rng.uniform(-s, s) for s in self.scale_range]
        shears = [rng.uniform(-s, s) for s in self.shear_range]
        m = affine_matrix(angles, scales, shears, self.voxel_size)
        return warp(image, labels, mask, matrix=centred(m, image.shape))
