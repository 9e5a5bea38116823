"""EM section artefacts: misalignment, missing sections and motion blur.

- ``Misalignment`` (image, labels and mask together, as the tissue moved): with probability
  ``prob`` pick a section ``z0 >= 1`` and either only it ("slip") or every section from it on
  (a "step", 50/50) moves: with probability ``rotate_ratio`` a rotation about the section centre
  whose corner travel is up to ``displacement`` voxels, otherwise an integer shift of up to
  ``displacement`` voxels in y and x. Needs at least 2 sections.
- ``MissingSection`` (image only): 1..``num_sections`` sections (at most z - 1) become the
  patch minimum (a blank section); labels keep the truth. Needs at least 2 sections.
- ``MotionBlur`` (image only): 1..``sections`` sections are blurred with a line kernel of
  ``kernel_size`` voxels at a random in-plane angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from volseg.data.augment._warp import centred, warp

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]


def _misaligned_matrix(
    shape: tuple[int, ...], rng: np.random.Generator, displacement: int, rotate: bool
) -> np.ndarray:
    """3x4 voxel matrix of an in-plane rotation about the section centre or an integer shift."""
    if rotate:
        half = float(np.hypot((shape[1] - 1) / 2, (shape[2] - 1) / 2))
        angle = rng.uniform(-1.0, 1.0) * displacement / max(1.0, half)
        c, s = np.cos(angle), np.sin(angle)
        return centred(np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]]), shape)
    dy, dx = rng.integers(-displacement, displacement + 1, size=2)
    return np.array([[1.0, 0, 0, 0], [0, 1, 0, dy], [0, 0, 1, dx]])


@dataclass(frozen=True)
class Misalignment:
    """Shift or rotate one section or a stack of sections (see the module docstring)."""

    prob: float
    displacement: int
    rotate_ratio: float

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        depth = image.shape[0]
        if depth < 2 or rng.random() >= self.prob:
            return image, labels, mask
        z0 = int(rng.integers(1, depth))
        moved = slice(z0, z0 + 1) if rng.random() < 0.5 else slice(z0, depth)
        rotate = bool(rng.random() < self.rotate_ratio)
        image, labels, mask = (np.array(a) for a in (image, labels, mask))
        matrix = _misaligned_matrix(image[moved].shape, rng, self.displacement, rotate)
        image[moved], labels[moved], mask[moved] = warp(
            image[moved], labels[moved], mask[moved], matrix=matrix
        )
        return image, labels, mask


@dataclass(frozen=True)
class MissingSection:
    """Blank 1..``num_sections`` sections of the image (see the module docstring)."""

    prob: float
    num_sections: int

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        depth = image.shape[0]
        if depth < 2 or rng.random() >= self.prob:
            return image, labels, mask
        n = int(rng.integers(1, min(self.num_sections, depth - 1) + 1))
        gone = rng.choice(depth, size=n, replace=False)
        out = np.array(image, dtype=np.float32)
        out[gone] = out.min()
        return out, labels, mask


def line_kernel(size: int, angle: float) -> np.ndarray:
    """A normalised ``size x size`` kernel holding a one-voxel line through the centre, from
    edge to edge of the kernel at ``angle`` (radians from the x axis)."""
    kernel = np.zeros((size, size), dtype=np.float32)
    c = (size - 1) / 2
    reach = c / max(abs(np.sin(angle)), abs(np.cos(angle)))
    t = np.linspace(-reach, reach, 4 * size)
    ys = np.clip(np.round(c + t * np.sin(angle)).astype(int), 0, size - 1)
    xs = np.clip(np.round(c + t * np.cos(angle)).astype(int), 0, size - 1)
    kernel[ys, xs] = 1.0
    return kernel / kernel.sum()


@dataclass(frozen=True)
class MotionBlur:
    """Line-kernel blur of 1..``sections`` sections of the image."""

    prob: float
    sections: int
    kernel_size: int

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if rng.random() >= self.prob:
            return image, labels, mask
        depth = image.shape[0]
        n = int(rng.integers(1, min(self.sections, depth) + 1))
        out = np.array(image, dtype=np.float32)
        for z in rng.choice(depth, size=n, replace=False):
            kernel = line_kernel(self.kernel_size, float(rng.uniform(0.0, np.pi)))
            out[z] = ndimage.convolve(out[z], kernel, mode="reflect")
        return out, labels, mask
