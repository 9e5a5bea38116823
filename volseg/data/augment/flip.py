"""Random flips and in-plane 90-degree rotations (image, labels and mask together).

``Flip``: each axis of ``axes`` flips independently with probability ``prob``.
``Rotate90``: with probability ``prob`` rotate by k x 90 degrees in the plane of ``axes``,
k uniform in {1, 2, 3}; when the patch is not square in that plane only k = 2 keeps its shape,
so 180 degrees is used. The builder refuses planes whose two voxel sizes differ (anisotropic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Flip:
    """Flip each of ``axes`` (0 = z, 1 = y, 2 = x) with probability ``prob``."""

    prob: float
    axes: Sequence[int] = (0, 1, 2)

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        chosen = [a for a in self.axes if rng.random() < self.prob]
        if not chosen:
            return image, labels, mask
        return tuple(np.flip(a, chosen) for a in (image, labels, mask))  # type: ignore[return-value]


@dataclass(frozen=True)
class Rotate90:
    """Rotate by a random multiple of 90 degrees in the plane ``axes`` with probability ``prob``."""

    prob: float
    axes: tuple[int, int] = (1, 2)

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if rng.random() >= self.prob:
            return image, labels, mask
        a, b = self.axes
        square = image.shape[a] == image.shape[b]
        k = int(rng.integers(1, 4)) if square else 2
        return tuple(np.rot90(x, k, axes=(a, b)) for x in (image, labels, mask))  # type: ignore[return-value]
