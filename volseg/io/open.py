"""``open_volume``: one lazy entry point for h5, zarr / OME-Zarr and tif volumes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from volseg.errors import VolsegError
from volseg.io.checked import check_not_empty, checked
from volseg.io.paths import locate
from volseg.io.volume import Volume


def open_volume(
    path_or_url: Any,
    key: str | None = None,
    *,
    voxel_size: Any = None,
    offset: Any = None,
    level: int | None = None,
    ndim: int | Iterable[int] | None = None,
) -> Volume:
    """Open a volume lazily; nothing is read until the volume is indexed.

    Args:
        path_or_url: ``file.h5[:key]``, ``x.zarr[:path]`` / ``x.zarr/path``, an OME-Zarr image or
            ``labels/<name>`` group, ``file.tif``, a folder or glob of 2D tif slices, a URL
            (zarr through fsspec) or a zarr store object.
        key: dataset / node inside the container (instead of ``:key`` in the path).
        voxel_size: nm ``(z, y, x)`` (or a scalar); overrides any metadata.
        offset: nm ``(z, y, x)``; overrides any metadata.
        level: pyramid level of an OME-Zarr multiscale group (default 0).
        ndim: accepted number(s) of dimensions, e.g. ``3`` or ``(3, 4)``.

    Returns:
        A ``Volume``; ``attrs["voxel_size_source"]`` says where the voxel size came from
        (``"argument"``, ``"ome"``, ``"attrs:<name>"``, ``"imagej"`` or ``"default"``).
        h5 and tif files stay open until ``Volume.close()`` or the volume is dropped.

    Raises:
        VolsegError: missing file or key, unknown format, unreadable file, wrong ``ndim``.
    """
    loc = locate(path_or_url, key)
    if level is not None and loc.fmt != "zarr":
        raise VolsegError(f"level= applies to OME-Zarr images only, not to {loc.label}.")
    if loc.fmt == "h5":
        from volseg.io.read_h5 import open_h5

        volume = open_h5(loc.target, loc.key, voxel_size=voxel_size, offset=offset)
    elif loc.fmt == "zarr":
        from volseg.io.read_zarr import open_zarr

        volume = open_zarr(loc, voxel_size=voxel_size, offset=offset, level=level)
    elif loc.fmt == "tif":
        from volseg.io.read_tif import open_tif

        volume = open_tif(loc.target, voxel_size=voxel_size, offset=offset)
    else:
        from volseg.io.read_tif import open_tif_stack

        volume = open_tif_stack(loc.target, voxel_size=voxel_size, offset=offset)
    try:
        check_not_empty(volume.shape, volume.path or loc.label)
    except VolsegError:
        volume.close()
        raise
    volume.data = checked(volume.data, volume.path or loc.label)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if volume.ndim not in allowed:
            volume.close()
            expected = " or ".join(f"{n}D" for n in allowed)
            raise VolsegError(
                f"{volume.path} is {volume.ndim}D with shape {volume.shape}; expected {expected}."
            )
    return volume
