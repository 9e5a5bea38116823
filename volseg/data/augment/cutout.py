"""Cutout: fill random boxes of the image with the patch mean (labels and mask untouched).

With probability ``prob``, ``num_holes`` boxes are drawn; each side is uniform in
``[1, size_fraction * side]`` voxels and the box lies wholly inside the patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Cutout:
    """Mean-filled boxes in the image (see the module docstring)."""

    prob: float
    num_holes: int
    size_fraction: Sequence[float]

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if rng.random() >= self.prob:
            return image, labels, mask
        out = np.array(image, dtype=np.float32)
        fill = np.float32(out.mean(dtype=np.float64))
        for _ in range(self.num_holes):
            box = []
            for n, f in zip(out.shape, self.size_fraction, strict=True):
                side = int(rng.integers(1, max(1, int(f * n)) + 1))
                start = int(rng.integers(0, n - side + 1))
                box.append(slice(start, start + side))
            out[tuple(box)] = fill
        return out, labels, mask
