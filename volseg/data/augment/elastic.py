"""Smooth random elastic deformation in nanometres (gunpowder's ``ElasticAugment`` idea).

Control points lie every ``control_point_spacing_nm`` over the patch; each gets a normal
displacement of ``jitter_sigma_nm`` (per axis, converted to voxels with the voxel size, so an
anisotropic patch deforms the same physical amount on each axis). A cubic B-spline through the
control points gives a displacement for every voxel; image linear, labels and mask nearest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

from volseg.data.augment._warp import warp

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@lru_cache(maxsize=32)
def _spline_matrix(n: int, points: int) -> np.ndarray:
    """``(n, points)`` weights of the cubic spline through ``points`` control points spread
    evenly over ``n`` voxels. The 3D spline is a tensor product, so applying one matrix per axis
    costs O(N) instead of the 64 taps per voxel of a 3D ``ndimage.zoom(order=3)``."""
    eye = np.eye(points, dtype=np.float64)
    pos = np.linspace(0, points - 1, n) if points > 1 else np.zeros(n)
    cols = [
        ndimage.map_coordinates(eye[:, j], [pos], order=3, mode="nearest") for j in range(points)
    ]
    return np.stack(cols, axis=1).astype(np.float32)


def displacement(
    shape: Sequence[int],
    *,
    spacing_nm: Sequence[float],
    sigma_nm: Sequence[float],
    voxel_size: Sequence[float],
    rng: np.random.Generator,
) -> np.ndarray:
    """``(3, *shape)`` float32 displacement in voxels (zero on axes with zero sigma)."""
    points = [
        max(2, math.ceil(n * v / s) + 1) if n > 1 else 1
        for n, v, s in zip(shape, voxel_size, spacing_nm, strict=True)
    ]
    out = np.zeros((3, *shape), dtype=np.float32)
    mats = [_spline_matrix(int(n), p) for n, p in zip(shape, points, strict=True)]
    for axis in range(3):
        sigma = sigma_nm[axis] / voxel_size[axis]
        if sigma == 0 or shape[axis] == 1:
            continue
        control = rng.normal(0.0, sigma, size=points).astype(np.float32)
        field = np.einsum("zi,ijk->zjk", mats[0], control)
        field = np.einsum("yj,zjk->zyk", mats[1], field)
        out[axis] = np.einsum("xk,zyk->zyx", mats[2], field)
    return out


@dataclass(frozen=True)
class Elastic:
    """Elastic warp with probability ``prob``; spacing and sigma in nm (z, y, x)."""

    prob: float
    control_point_spacing_nm: Sequence[float]
    jitter_sigma_nm: Sequence[float]
    voxel_size: Sequence[float]

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if rng.random() >= self.prob:
            return image, labels, mask
        disp = displacement(
            image.shape,
            spacing_nm=self.control_point_spacing_nm,
            sigma_nm=self.jitter_sigma_nm,
            voxel_size=self.voxel_size,
            rng=rng,
        )
        return warp(image, labels, mask, displacement=disp)
