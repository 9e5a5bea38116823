"""Random intensity changes of the (normalised) image; labels and mask pass through untouched.

With probability ``prob`` the group runs; then, each with its own probability: additive
Gaussian noise (std ``gaussian_noise_std``), a brightness shift uniform in
``+-shift_intensity_offset``, and a contrast factor uniform in ``contrast_range`` applied around
the patch mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Intensity:
    """Noise, shift and contrast (see the module docstring)."""

    prob: float
    gaussian_noise_prob: float
    gaussian_noise_std: float
    shift_intensity_prob: float
    shift_intensity_offset: float
    contrast_prob: float
    contrast_range: Sequence[float]

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if rng.random() >= self.prob:
            return image, labels, mask
        out = np.array(image, dtype=np.float32)  # a copy: the caller's image is never changed
        if rng.random() < self.gaussian_noise_prob:
            out += rng.normal(0.0, self.gaussian_noise_std, size=out.shape).astype(np.float32)
        if rng.random() < self.shift_intensity_prob:
            offset = self.shift_intensity_offset
            out += np.float32(rng.uniform(-offset, offset))
        if rng.random() < self.contrast_prob:
            factor = np.float32(rng.uniform(*self.contrast_range))
            mean = out.mean(dtype=np.float64).astype(np.float32)
            out -= mean
            out *= factor
            out += mean
        return out, labels, mask
