"""npe2 writer for labels layers: OME-Zarr (``*.zarr``) or tif (``*.tif``, ``*.tiff``).

Labels are written as uint32 (uint64 only when an id needs it) with singleton dimensions
dropped, so Fiji, Python and other tools read a plain ``(z, y, x)`` (or ``(y, x)``) stack.
3D labels go through :func:`volseg.io.write_volume` (OME-Zarr 0.5 labels group, or a
multi-page tif with the voxel size in its metadata); 2D labels can only be written as tif.
The layer's ``scale`` and ``translate`` become voxel size and offset (nm).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from volseg.errors import VolsegError

SUFFIXES = (".zarr", ".tif", ".tiff")
UINT32_MAX = np.iinfo(np.uint32).max


def as_labels(data: Any) -> np.ndarray:
    """Labels as uint32 (uint64 when needed); negative or fractional values are refused."""
    arr = np.asarray(data[0] if isinstance(data, list) else data)
    if arr.dtype == bool:
        return arr.astype(np.uint32)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.array_equal(arr, np.round(arr)):
            raise VolsegError("labels must hold whole numbers, got fractional or NaN values.")
    elif arr.dtype.kind not in "iu":
        raise VolsegError(f"labels must be integers, got dtype {arr.dtype}.")
    if arr.size == 0:
        raise VolsegError("the labels layer is empty (a zero-sized array).")
    lo, hi = arr.min(), arr.max()
    if lo < 0:
        raise VolsegError(f"labels must be >= 0 (0 = background), found {lo}.")
    return arr.astype(np.uint32 if hi <= UINT32_MAX else np.uint64, copy=False)


def squeeze(
    labels: np.ndarray, meta: dict[str, Any]
) -> tuple[np.ndarray, list[float], list[float]]:
    """Drop singleton axes; returns the labels and the scale and translate of the kept axes."""
    ndim = labels.ndim
    scale = list(meta.get("scale") or [1.0] * ndim)
    translate = list(meta.get("translate") or [0.0] * ndim)
    keep = [i for i, n in enumerate(labels.shape) if n != 1]
    if len(keep) not in (2, 3):
        raise VolsegError(
            f"labels of shape {labels.shape} have {len(keep)} non-singleton axes; "
            "expected a 2D (y, x) or 3D (z, y, x) image."
        )
    out = labels.reshape([labels.shape[i] for i in keep])
    return out, [float(scale[i]) for i in keep], [float(translate[i]) for i in keep]


def _write_tif_2d(path: Path, labels: np.ndarray, scale: list[float], offset: list[float]) -> None:
    import tifffile

    from volseg.atomic import staged
    from volseg.io.guard import check_replaceable

    check_replaceable(path)
    metadata = {"axes": "YX", "voxel_size_nm": scale, "offset_nm": offset, "volseg": {}}
    with staged(path, overwrite=True) as tmp:
        tifffile.imwrite(tmp, labels, photometric="minisblack", metadata=metadata)


def write_labels(path: str | os.PathLike, data: Any, meta: dict[str, Any]) -> list[str]:
    """npe2 single-layer writer: write one labels layer to ``path``; returns ``[path]``.

    Raises:
        VolsegError: an unsupported suffix, non-label data, or 2D labels for a zarr path.
    """
    target = Path(os.fspath(path))
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise VolsegError(f"cannot write labels to {target}; use a name ending in {SUFFIXES}.")
    labels, scale, offset = squeeze(as_labels(data), meta or {})
    if labels.ndim == 2:
        if suffix == ".zarr":
            raise VolsegError(
                f"OME-Zarr labels are (z, y, x); {target} would get 2D labels {labels.shape}, "
                "save them as .tif instead."
            )
        _write_tif_2d(target, labels, scale, offset)
        return [str(target)]
    from volseg.io import write_volume

    write_volume(
        target, labels, voxel_size=scale, offset=offset, kind="labels", overwrite=True
    ).close()
    return [str(target)]
