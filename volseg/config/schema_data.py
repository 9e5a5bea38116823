"""The ``data`` section: volumes, patches, normalisation, label targets and augmentation.

Image and label paths take the form ``file.h5:key``, ``volume.zarr`` or
``volume.zarr/labels/name``; a relative path is resolved against the folder of the config file
that names it (against the working directory for command-line overrides) and stored absolute.
``patch_size`` and ``pad_size`` count voxels of the training grid (``train_resolution`` when set,
otherwise the data's own voxel size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Output channels of a label target (one, or one per affinity offset), for the config checks.
from volseg.channels import target_channels as target_channels
from volseg.config.fields import CONNECTIVITY, POSITIVE, PROB, Param, param, spec
from volseg.offsets import UNITS

#: Keyword arguments each label target accepts, and their rules.
TARGET_KWARGS: dict[str, dict[str, Param]] = {
    "binary": {},
    "instance_boundary": {
        "thickness": param(int, lo=1),
        "edge_mode": param(str, choices=("all", "seg-all", "seg-no-bg")),
        "mode_2d": param(bool),
        "connectivity": param(int, choices=CONNECTIVITY),
    },
    "instance_edt": {
        "mode": param(str, choices=("3d", "2d")),
        "quantize": param(bool),
        "levels": param(int, lo=1),
    },
    "semantic_edt": {
        "alpha_fore": param(float, **POSITIVE),
        "alpha_back": param(float, **POSITIVE),
        "mode": param(str, choices=("3d", "2d")),
    },
    "affinity": {
        # a preset name (checked with the offsets in validate) or [dz, dy, dx]s
        "offsets": param(str | list[list[int]] | list[list[float]]),
        "unit": param(str, choices=UNITS),
    },
}

AUGMENTATIONS = (
    "flip",
    "rotate90",
    "affine",
    "elastic",
    "subvoxel_shift",
    "intensity",
    "misalignment",
    "missing_section",
    "motion_blur",
    "cutout",
)
#: Transforms a preset switches on when their ``enabled`` is null.
AUGMENTATION_PRESETS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "some": frozenset({"flip", "rotate90", "intensity"}),
    "all": frozenset(AUGMENTATIONS),
}


@dataclass
class ImageTransformConfig:
    """Intensity normalisation; percentiles are fractions (0.0 and 1.0 = no clipping)."""

    normalize: str = spec("0-1", choices=("0-1", "zscore", "none"))
    clip_percentile_low: float = spec(0.0, **PROB)
    clip_percentile_high: float = spec(1.0, **PROB)


@dataclass
class TargetConfig:
    """One label target: ``name`` and its keyword arguments (see :data:`TARGET_KWARGS`)."""

    name: str = spec("binary", choices=tuple(TARGET_KWARGS))
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class LabelTransformConfig:
    """Training targets in this order, one output channel each (affinity: one per offset)."""

    targets: list[TargetConfig] = field(
        default_factory=lambda: [
            TargetConfig("binary"),
            TargetConfig("instance_boundary"),
            TargetConfig("instance_edt"),
        ]
    )


@dataclass
class FlipConfig:
    """Random flips along each listed spatial axis (0 = z, 1 = y, 2 = x)."""

    enabled: bool | None = None
    prob: float = spec(0.5, **PROB)
    spatial_axis: list[int] = spec(factory=lambda: [0, 1, 2], choices=(0, 1, 2), min_length=1)


@dataclass
class Rotate90Config:
    """Random multiples of 90 degrees in the plane of ``spatial_axes`` (default y, x)."""

    enabled: bool | None = None
    prob: float = spec(0.5, **PROB)
    spatial_axes: list[int] = spec(factory=lambda: [1, 2], choices=(0, 1, 2), length=2)


@dataclass
class AffineConfig:
    """Small rotations (radians about z, y, x), relative scalings and shears."""

    enabled: bool | None = None
    prob: float = spec(0.3, **PROB)
    rotate_range: list[float] = spec(factory=lambda: [0.2, 0.0, 0.0], length=3, lo=0.0)
    scale_range: list[float] = spec(factory=lambda: [0.05, 0.05, 0.05], length=3, lo=0.0, hi=0.5)
    shear_range: list[float] = spec(factory=lambda: [0.0, 0.05, 0.05], length=3, lo=0.0, hi=0.5)


@dataclass
class ElasticConfig:
    """Smooth random deformation: control points every ``control_point_spacing_nm``, each
    jittered by a normal displacement of ``jitter_sigma_nm`` (gunpowder's ElasticAugment)."""

    enabled: bool | None = None
    prob: float = spec(0.2, **PROB)
    control_point_spacing_nm: list[float] = spec(
        factory=lambda: [120.0, 320.0, 320.0], length=3, lo=0.0, lo_open=True
    )
    jitter_sigma_nm: list[float] = spec(factory=lambda: [0.0, 16.0, 16.0], length=3, lo=0.0)


@dataclass
class IntensityConfig:
    """Noise, brightness shift and contrast; ``prob`` gates the group, the rest each kind."""

    enabled: bool | None = None
    prob: float = spec(1.0, **PROB)
    gaussian_noise_prob: float = spec(0.2, **PROB)
    gaussian_noise_std: float = spec(0.03, lo=0.0)
    shift_intensity_prob: float = spec(0.4, **PROB)
    shift_intensity_offset: float = spec(0.1, lo=0.0)
    contrast_prob: float = spec(0.4, **PROB)
    contrast_range: list[float] = spec(factory=lambda: [0.8, 1.2], length=2, lo=0.0, lo_open=True)


@dataclass
class MisalignmentConfig:
    """Shift (or, with ``rotate_ratio``, rotate) sections against each other, in voxels."""

    enabled: bool | None = None
    prob: float = spec(0.4, **PROB)
    displacement: int = spec(8, lo=0)
    rotate_ratio: float = spec(0.3, **PROB)


@dataclass
class MissingSectionConfig:
    """Blank out up to ``num_sections`` z-sections of the image (labels are kept)."""

    enabled: bool | None = None
    prob: float = spec(0.3, **PROB)
    num_sections: int = spec(2, lo=1)


@dataclass
class MotionBlurConfig:
    """Blur up to ``sections`` z-sections with a ``kernel_size`` line kernel."""

    enabled: bool | None = None
    prob: float = spec(0.3, **PROB)
    sections: int = spec(2, lo=1)
    kernel_size: int = spec(9, lo=3)


@dataclass
class SubvoxelShiftConfig:
    """Shift the image by up to ``max_shift`` (z, y, x) voxels, linearly interpolated."""

    enabled: bool | None = None
    prob: float = spec(0.5, **PROB)
    max_shift: list[float] = spec(factory=lambda: [0.0, 0.5, 0.5], length=3, lo=0.0, hi=0.5)


@dataclass
class CutoutConfig:
    """Fill ``num_holes`` boxes of up to ``size_fraction`` of the patch with its mean."""

    enabled: bool | None = None
    prob: float = spec(0.2, **PROB)
    num_holes: int = spec(1, lo=1)
    size_fraction: list[float] = spec(
        factory=lambda: [0.25, 0.25, 0.25], length=3, lo=0.0, hi=1.0, lo_open=True
    )


@dataclass
class AugmentationConfig:
    """``preset`` decides transforms whose ``enabled`` is null; true/false always wins."""

    preset: str = spec("some", choices=tuple(AUGMENTATION_PRESETS))
    flip: FlipConfig = field(default_factory=FlipConfig)
    rotate90: Rotate90Config = field(default_factory=Rotate90Config)
    affine: AffineConfig = field(default_factory=AffineConfig)
    elastic: ElasticConfig = field(default_factory=ElasticConfig)
    subvoxel_shift: SubvoxelShiftConfig = field(default_factory=SubvoxelShiftConfig)
    intensity: IntensityConfig = field(default_factory=IntensityConfig)
    misalignment: MisalignmentConfig = field(default_factory=MisalignmentConfig)
    missing_section: MissingSectionConfig = field(default_factory=MissingSectionConfig)
    motion_blur: MotionBlurConfig = field(default_factory=MotionBlurConfig)
    cutout: CutoutConfig = field(default_factory=CutoutConfig)


def enabled_augmentations(aug: Any) -> list[str]:
    """Names of the transforms an ``augmentation`` config switches on, in pipeline order."""
    preset = AUGMENTATION_PRESETS[aug.preset]
    out = []
    for name in AUGMENTATIONS:
        enabled = getattr(aug, name).enabled
        if enabled or (enabled is None and name in preset):
            out.append(name)
    return out


@dataclass
class DataConfig:
    """Training data. ``val_region`` holds out a z-range ``[z0, z1)`` of every training volume,
    as a number in (0, 1) that fraction of slices at the end of z, or a box
    ``[[z0, z1], [y0, y1], [x0, x1]]`` (apart in y and x too); null = none.
    ``voxel_size`` (nm) of the training files that record none (contradicting a file's
    metadata is an error; it never applies at inference); ``train_resolution`` (nm) is the grid
    the network sees (patches are resampled on the fly). ``foreground_probability`` is the chance
    that a patch is centred on a labelled voxel."""

    train_image: list[str] = spec(factory=list, path="many")
    train_label: list[str] = spec(factory=list, path="many")
    train_mask: list[str] = spec(factory=list, path="many")
    val_image: list[str] = spec(factory=list, path="many")
    val_label: list[str] = spec(factory=list, path="many")
    val_mask: list[str] = spec(factory=list, path="many")
    val_region: Any = None
    train_resolution: list[float] | None = spec(None, length=3, lo=0.0, lo_open=True)
    voxel_size: list[float] | None = spec(None, length=3, lo=0.0, lo_open=True)
    patch_size: list[int] | None = spec(None, length=3, lo=1)
    pad_size: list[int] = spec(factory=lambda: [0, 0, 0], length=3, lo=0)
    pad_mode: str = spec("reflect", choices=("reflect", "constant"))
    iter_num_per_epoch: int = spec(256, lo=1)
    foreground_probability: float = spec(0.5, **PROB)
    image_transform: ImageTransformConfig = field(default_factory=ImageTransformConfig)
    label_transform: LabelTransformConfig = field(default_factory=LabelTransformConfig)
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)
