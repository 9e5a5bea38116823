"""Open tif volumes lazily: one multi-page file, or a folder / glob of 2D slices.

A multi-page file is read through ``tifffile``'s zarr view (``aszarr=True``), so a crop decodes
only the pages (and tiles) it touches; the file stays open until ``Volume.close()``. A stack of
2D slices becomes a :class:`TifSliceStack`, which reads only the slices an index asks for.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.metadata import (
    offset_from_attrs,
    resolve,
    unit_to_nm,
    volume_attrs,
    voxel_size_from_attrs,
)
from volseg.io.volume import Triple, Volume

TIF_SUFFIXES = (".tif", ".tiff")


def _natural_key(path: Path) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _imagej_voxel_size(tif: Any, where: str) -> tuple[Triple, str] | None:
    meta = tif.imagej_metadata or {}
    unit = meta.get("unit")
    if not unit or str(unit).lower() in ("pixel", "pixels"):
        return None
    tags = tif.pages[0].tags
    try:
        yx = [den / num for num, den in (tags[t].value for t in ("YResolution", "XResolution"))]
    except (KeyError, ZeroDivisionError):
        return None
    factor = unit_to_nm(unit, where=where)
    z = float(meta.get("spacing", 1.0))
    return (z * factor, yx[0] * factor, yx[1] * factor), "imagej"


def open_tif(path: Path, *, voxel_size: Any = None, offset: Any = None) -> Volume:
    """Open a (multi-page) tif file lazily."""
    import tifffile
    import zarr

    try:
        with tifffile.TiffFile(path) as tif:
            ndim = len(tif.series[0].shape)
            shaped = dict(tif.shaped_metadata[0]) if tif.shaped_metadata else {}
            found = voxel_size_from_attrs(shaped, ndim=ndim, where=str(path))
            if found is None:
                found = _imagej_voxel_size(tif, str(path))
        store = tifffile.imread(path, aszarr=True)
    except (tifffile.TiffFileError, OSError, IndexError) as exc:
        raise VolsegError(f"cannot read {path}: not a valid TIFF file ({exc}).") from None
    node = zarr.open(store, mode="r")
    array = node if isinstance(node, zarr.Array) else node["0"]  # pyramidal tif: level 0
    shift = offset_from_attrs(shaped, ndim=ndim, where=str(path))
    size, shift, source = resolve(
        explicit_size=voxel_size, explicit_offset=offset, found_size=found, found_offset=shift
    )
    meta = volume_attrs({k: v for k, v in shaped.items() if k not in ("shape", "axes")})
    meta.update(voxel_size_source=source, format="tif")
    return Volume(array, size, shift, path=str(path), attrs=meta, closer=store.close)


class TifSliceStack:
    """A lazy ``(z, y, x)`` array over 2D tif files; indexing reads only the slices it needs."""

    def __init__(self, files: list[Path], shape2d: tuple[int, int], dtype: np.dtype) -> None:
        self.files = files
        self.shape = (len(files), *shape2d)
        self.dtype = np.dtype(dtype)
        self.ndim = 3

    def _read(self, z: int) -> np.ndarray:
        import tifffile

        image = tifffile.imread(self.files[z])
        if image.shape != self.shape[1:] or image.dtype != self.dtype:
            raise VolsegError(
                f"{self.files[z]} is {image.shape} {image.dtype}, but the stack is "
                f"{self.shape[1:]} {self.dtype}."
            )
        return image

    def __getitem__(self, index: Any) -> np.ndarray:
        index = index if isinstance(index, tuple) else (index,)
        if Ellipsis in index:
            at = index.index(Ellipsis)
            fill = (slice(None),) * (3 - len(index) + 1)
            index = index[:at] + fill + index[at + 1 :]
        if len(index) > 3:
            raise IndexError(f"too many indices for a 3D tif stack: {index}.")
        index = index + (slice(None),) * (3 - len(index))
        zi, rest = index[0], index[1:]
        if isinstance(zi, int | np.integer):
            return self._read(range(self.shape[0])[zi])[rest]
        zs = range(self.shape[0])[zi] if isinstance(zi, slice) else np.asarray(zi).ravel()
        zs = [range(self.shape[0])[int(z)] for z in zs]
        if not zs:
            empty = np.empty(self.shape[1:], self.dtype)[rest]
            return np.empty((0, *empty.shape), self.dtype)
        return np.stack([self._read(z)[rest] for z in zs])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[...]
        return out if dtype is None else out.astype(dtype)

    def __len__(self) -> int:
        return self.shape[0]


def _slice_files(target: Path) -> list[Path]:
    if target.is_dir():
        files = [p for p in target.iterdir() if p.suffix.lower() in TIF_SUFFIXES]
    else:
        files = [Path(p) for p in glob.glob(str(target))]
        others = [p for p in files if p.suffix.lower() not in TIF_SUFFIXES]
        if others:
            raise VolsegError(f"{target} matches files that are not tif slices, e.g. {others[0]}.")
    if not files:
        raise VolsegError(f"{target} matches no tif files.")
    return sorted(files, key=_natural_key)


def open_tif_stack(target: Path, *, voxel_size: Any = None, offset: Any = None) -> Volume:
    """Open a folder or glob of 2D tif slices (natural sort order is the z order)."""
    import tifffile

    files = _slice_files(target)
    first = None
    for file in files:
        try:
            with tifffile.TiffFile(file) as tif:
                shape, dtype = tuple(tif.series[0].shape), np.dtype(tif.series[0].dtype)
        except (tifffile.TiffFileError, OSError, IndexError) as exc:
            raise VolsegError(f"cannot read {file}: not a valid TIFF file ({exc}).") from None
        if len(shape) != 2:
            raise VolsegError(f"{file} is {shape}; a slice stack needs 2D grayscale slices.")
        first = first or (shape, dtype, file)
        if (shape, dtype) != first[:2]:
            raise VolsegError(
                f"{file} is {shape} {dtype}, but {first[2].name} is {first[0]} {first[1]}."
            )
    assert first is not None
    size, shift, source = resolve(
        explicit_size=voxel_size, explicit_offset=offset, found_size=None, found_offset=None
    )
    data = TifSliceStack(files, first[0], first[1])
    attrs = {"voxel_size_source": source, "format": "tif-stack"}
    return Volume(data, size, shift, path=str(target), attrs=attrs)
