"""``build_augmentation(aug_cfg, *, voxel_size) -> Augment``: the configured transforms in order.

``aug(image, labels, mask, rng) -> (image, labels, mask)`` works on numpy ``(z, y, x)`` arrays:
image float32, labels any unsigned integer dtype (kept), mask boolean (True = valid). Every
randomness comes from ``rng``, so the same generator state gives the same result. Transforms run
in :data:`volseg.config.AUGMENTATIONS` order (flip, rotate90, affine, elastic, subvoxel_shift,
intensity, misalignment, missing_section, motion_blur, cutout); which run follows ``preset``
unless a transform's ``enabled`` is true or false. ``voxel_size`` is the grid the patches are on
(``data.train_resolution`` when set): affine and elastic work in nanometres with it, and
``rotate90`` refuses a plane whose two voxel sizes differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from volseg.config import enabled_augmentations
from volseg.data.augment.affine import Affine
from volseg.data.augment.artefacts import Misalignment, MissingSection, MotionBlur
from volseg.data.augment.cutout import Cutout
from volseg.data.augment.elastic import Elastic
from volseg.data.augment.flip import Flip, Rotate90
from volseg.data.augment.intensity import Intensity
from volseg.data.augment.subvoxel import SubvoxelShift
from volseg.errors import VolsegError

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]
Transform = Callable[[np.ndarray, np.ndarray, np.ndarray, np.random.Generator], Arrays]
AXIS_NAMES = "zyx"


def _rotate90(c: dict[str, Any], voxel_size: Sequence[float]) -> Rotate90:
    a, b = c["spatial_axes"]
    va, vb = voxel_size[a], voxel_size[b]
    if abs(va - vb) > 0.01 * min(va, vb):
        raise VolsegError(
            f"`data.augmentation.rotate90.spatial_axes` {[a, b]} is the "
            f"{AXIS_NAMES[a]}-{AXIS_NAMES[b]} plane, whose voxels are {va} x {vb} nm; "
            "90-degree rotations need equal voxel sizes there (use [1, 2] for in-plane)."
        )
    return Rotate90(c["prob"], (int(a), int(b)))


def _make(name: str, c: dict[str, Any], voxel_size: tuple[float, float, float]) -> Transform:
    if name == "flip":
        return Flip(c["prob"], tuple(c["spatial_axis"]))
    if name == "rotate90":
        return _rotate90(c, voxel_size)
    if name == "affine":
        return Affine(c["prob"], c["rotate_range"], c["scale_range"], c["shear_range"], voxel_size)
    if name == "elastic":
        return Elastic(c["prob"], c["control_point_spacing_nm"], c["jitter_sigma_nm"], voxel_size)
    if name == "subvoxel_shift":
        return SubvoxelShift(c["prob"], tuple(c["max_shift"]))
    if name == "intensity":
        kwargs = {k: v for k, v in c.items() if k != "enabled"}
        return Intensity(**kwargs)
    if name == "misalignment":
        return Misalignment(c["prob"], c["displacement"], c["rotate_ratio"])
    if name == "missing_section":
        return MissingSection(c["prob"], c["num_sections"])
    if name == "motion_blur":
        return MotionBlur(c["prob"], c["sections"], c["kernel_size"])
    if name == "cutout":
        return Cutout(c["prob"], c["num_holes"], c["size_fraction"])
    raise VolsegError(f"unknown augmentation {name!r}.")  # unreachable with a checked config


@dataclass(frozen=True)
class Augment:
    """The enabled transforms (``names``, in order) applied one after the other."""

    names: tuple[str, ...]
    transforms: tuple[Transform, ...]

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, mask: np.ndarray, rng: np.random.Generator
    ) -> Arrays:
        if not (image.shape == labels.shape == mask.shape) or image.ndim != 3:
            raise VolsegError(
                f"augmentation needs (z, y, x) image, labels and mask of one shape, got "
                f"{image.shape}, {labels.shape} and {mask.shape}."
            )
        image = np.asarray(image, dtype=np.float32)
        mask = np.asarray(mask, dtype=bool)
        for transform in self.transforms:
            image, labels, mask = transform(image, labels, mask, rng)
        return (
            np.ascontiguousarray(image, dtype=np.float32),
            np.ascontiguousarray(labels),
            np.ascontiguousarray(mask),
        )


def build_augmentation(aug_cfg: Any, *, voxel_size: Sequence[float]) -> Augment:
    """The transforms a ``data.augmentation`` config switches on (OmegaConf or plain dict).

    Args:
        aug_cfg: the ``data.augmentation`` section of a loaded config.
        voxel_size: (z, y, x) nm of the patches' grid.

    Raises:
        VolsegError: ``rotate90`` in a plane of unequal voxel sizes.
    """
    from omegaconf import DictConfig, OmegaConf

    node = aug_cfg if isinstance(aug_cfg, DictConfig) else OmegaConf.create(dict(aug_cfg))
    plain = OmegaConf.to_container(node, resolve=True)
    size = tuple(float(v) for v in voxel_size)
    names = tuple(enabled_augmentations(node))
    transforms = tuple(_make(n, plain[n], size) for n in names)  # type: ignore[index]
    return Augment(names, transforms)
