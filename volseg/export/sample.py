"""The test tensors of a package: a crop of a real image and volseg's own output on it.

The test input is one network tile (``model.input_size``, rounded down to the network's total
down factor) cut from the centre of an image (``--image``, by default the run's first training
image) and resampled to the network grid (``data.train_resolution``) the way volseg's loader
does, in raw intensities: the package's pre-processing normalises it. The test output is
computed by volseg, independently of the package's description and its exported network: the
tile normalised as the package's steps do (:func:`~volseg.export.processing.normalize_as_package`,
volseg's own normalisation wherever the spec has an exact equivalent), volseg's network in eval
mode and :func:`volseg.models.apply_activations`. The BioImage Model Zoo test then checks that
the package's own pipeline (pre-processing steps, exported weights, post-processing) reproduces
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from volseg.errors import VolsegError


@dataclass
class TestTile:
    """A test input and where it came from.

    Attributes:
        raw: ``(c, z, y, x)`` float32 raw intensities on the network grid.
        image: the image it was cut from.
        start: first data voxel ``(z, y, x)`` of the crop in that image.
        voxel_size: the network grid's voxel size in nm ``(z, y, x)``, None if unknown.
    """

    raw: np.ndarray
    image: str
    start: tuple[int, int, int]
    voxel_size: tuple[float, float, float] | None


TestTile.__test__ = False  # not a pytest class


def tile_shape(input_size: Sequence[int], divisor: Sequence[int], dims: int) -> tuple[int, ...]:
    """``(z, y, x)`` of one network tile: ``input_size`` rounded down to ``divisor`` (never
    below it) on the network's axes; z is 1 for a 2D network."""
    size = [int(s) for s in input_size]
    spatial = size[-dims:]
    rounded = [max(d, s // d * d) for s, d in zip(spatial, divisor, strict=True)]
    return (1, *rounded) if dims == 2 else tuple(rounded)


def _image_path(cfg: Any, image: str | None) -> tuple[str, Any]:
    if image is not None:
        return image, None
    train = list(cfg.data.train_image or [])
    if not train:
        raise VolsegError(
            "the config names no training image; give --image VOL to cut the test input from."
        )
    return str(train[0]), cfg.data.voxel_size


def cut_tile(cfg: Any, *, tile: Sequence[int], image: str | None = None) -> TestTile:
    """Cut the test input from ``image`` (default: the config's first training image)."""
    from volseg.data.resample import data_extent, resample_image
    from volseg.io import open_volume
    from volseg.io.voxels import agreed_voxel_size

    path, given = _image_path(cfg, image)
    key = "data.voxel_size" if given is not None else "the image's voxel size"
    try:
        volume = open_volume(path, ndim=(3, 4))
    except VolsegError as exc:
        hint = "" if image is not None else " (the run's training image; give --image VOL)"
        raise VolsegError(f"cannot read the test image{hint}: {exc}") from None
    try:
        size = agreed_voxel_size(volume, given, key=key)
        resolution = cfg.data.train_resolution
        if resolution is not None and size is None:
            raise VolsegError(
                f"{path} records no voxel size, needed to resample it to "
                f"data.train_resolution {list(resolution)} nm; use an image that records one."
            )
        res = None if resolution is None else tuple(float(r) for r in resolution)
        extent = data_extent(tile, size or (1.0, 1.0, 1.0), res)
        shape = volume.spatial_shape
        if any(e > s for e, s in zip(extent, shape, strict=True)):
            raise VolsegError(
                f"{path} {list(shape)} is smaller than the test input needs ({list(extent)} "
                "voxels z, y, x); give a larger --image."
            )
        start = tuple((s - e) // 2 for s, e in zip(shape, extent, strict=True))
        region = tuple(slice(a, a + e) for a, e in zip(start, extent, strict=True))
        crop = volume[region if volume.ndim == 3 else (slice(None), *region)]
    finally:
        volume.close()
    crop = crop[None] if crop.ndim == 3 else crop
    raw = np.stack([resample_image(c, tile) for c in crop]).astype(np.float32)
    grid = res if res is not None else (None if size is None else tuple(size))
    return TestTile(raw=raw, image=path, start=start, voxel_size=grid)  # type: ignore[arg-type]


def reference_output(net: Any, model_cfg: Any, transform: Any, raw: np.ndarray) -> np.ndarray:
    """volseg's maps ``(C, z, y, x)`` of a raw ``(c, z, y, x)`` tile (see the module docstring)."""
    import torch

    from volseg.export.processing import normalize_as_package
    from volseg.models import apply_activations

    x = normalize_as_package(raw, transform)
    with torch.no_grad():
        logits = net.eval()(torch.from_numpy(np.ascontiguousarray(x))[None])
        maps = apply_activations(logits, model_cfg)
    return maps[0].numpy().astype(np.float32)
