"""``write_volume``, ``create_volume`` and the completion flag of streamed outputs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import staged
from volseg.errors import VolsegError
from volseg.io.blocks import default_chunks
from volseg.io.guard import check_replaceable, refuse_overlap
from volseg.io.metadata import RESERVED_ATTRS, plain
from volseg.io.paths import Location, locate, locate_for_write
from volseg.io.source import prepare
from volseg.io.volume import Volume, as_triple
from volseg.io.write_other import write_h5, write_tif
from volseg.io.write_zarr import build_node, check_shards, set_complete, write_zarr
from volseg.io.zarr_layout import node_type, plan_layout


def _shape_arg(value: Any, shape: tuple[int, ...], name: str) -> tuple[int, ...] | None:
    """Chunk / shard shape from an int, or a tuple (spatial only for maps: channels whole)."""
    if value is None:
        return None
    ndim = len(shape)
    values = (value,) * (ndim if ndim == 3 else 3) if isinstance(value, int) else tuple(value)
    if not all(isinstance(v, int | np.integer) and v >= 1 for v in values):
        raise VolsegError(f"{name} must be positive integers, got {value!r}.")
    if ndim == 4 and len(values) == 3:
        values = (shape[0], *values)
    if len(values) != ndim:
        raise VolsegError(f"{name} must have {ndim} entries for shape {shape}, got {value!r}.")
    return tuple(int(v) for v in values)


def _chunks(
    chunks: Any, shape: tuple[int, ...], voxel_size: Sequence[float], kind: str
) -> tuple[int, ...]:
    picked = _shape_arg(chunks, shape, "chunks")
    if picked is None:
        return default_chunks(shape, voxel_size, channels=kind == "maps")
    return tuple(min(c, n) for c, n in zip(picked, shape, strict=True))


def _user_attrs(attrs: dict[str, Any] | None, inherited: dict[str, Any]) -> dict[str, Any]:
    base = {k: v for k, v in inherited.items() if k not in RESERVED_ATTRS | {"level", "n_levels"}}
    merged = plain({**base, **(attrs or {})})
    try:
        json.dumps(merged)
    except (TypeError, ValueError):
        raise VolsegError(f"attrs must be JSON-serialisable, got {attrs!r}.") from None
    return merged


def write_volume(
    path: Any,
    data: Any,
    *,
    voxel_size: Any = None,
    offset: Any = None,
    kind: str = "image",
    key: str | None = None,
    chunks: Any = None,
    shards: Any = None,
    levels: int | None = None,
    attrs: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Volume:
    """Write a volume and return it re-opened lazily.

    ``x.zarr`` (default) is OME-Zarr 0.5: a multiscale group ``s0, s1, ...`` (``levels=None``
    picks the pyramid, see ``volseg.io.pyramid``); ``key="labels/<name>"`` writes an OME label
    image into an existing (or new) store. ``file.h5:key`` and ``file.tif`` are single level.

    Args:
        path: output path; ``x.zarr:key`` / ``x.zarr/key`` / ``file.h5:key`` name the node.
        data: numpy, dask (stored chunk by chunk, never computed whole) or a ``Volume``.
        voxel_size: nm ``(z, y, x)``; taken from ``data`` when it is a ``Volume``.
        offset: nm ``(z, y, x)``; from a ``Volume`` or ``(0, 0, 0)``.
        kind: ``"image"``, ``"labels"``, ``"maps"`` (``(c, z, y, x)``) or ``"mask"``.
        key: node / dataset inside the container.
        chunks: chunk shape (default about 64^3 voxels, see ``default_chunks``).
        shards: zarr v3 shard shape (multiples of ``chunks``), or ``None``.
        levels: number of pyramid levels including level 0 (zarr only).
        attrs: JSON-serialisable metadata stored under ``volseg`` (e.g. channel names).
        overwrite: replace an existing output; otherwise an existing output is an error.

    Raises:
        VolsegError: bad kind / dtype / shape / chunks, an existing output, or a bad path.
    """
    loc = locate_for_write(path, key)
    if isinstance(data, Volume) and data.path:
        refuse_overlap(loc.label, {"data": data.path})
    src = prepare(data, kind=kind, where=loc.label)
    if voxel_size is None and src.volume is None:
        raise VolsegError(f"voxel_size (nm, z y x) is required to write {loc.label}.")
    size = as_triple(voxel_size if voxel_size is not None else src.volume.voxel_size)  # type: ignore[union-attr]
    if any(v <= 0 for v in size):
        raise VolsegError(f"voxel_size must be positive nanometres, got {size}.")
    default_offset = src.volume.offset if src.volume is not None else (0, 0, 0)
    shift = as_triple(offset if offset is not None else default_offset, name="offset")
    meta = _user_attrs(attrs, src.attrs)
    if kind == "maps" and "channels" in meta and len(meta["channels"]) != src.shape[0]:
        raise VolsegError(
            f"attrs['channels'] names {len(meta['channels'])} channels but the maps for "
            f"{loc.label} have {src.shape[0]}."
        )
    chunk_shape = _chunks(chunks, src.shape, size, kind)
    if loc.fmt == "zarr":
        shard_shape = _shape_arg(shards, src.shape, "shards")
        check_shards(chunk_shape, shard_shape)
        write_zarr(
            loc.target,
            loc.key,
            src,
            voxel_size=size,
            offset=shift,
            chunks=chunk_shape,
            shards=shard_shape,
            levels=levels,
            attrs=meta,
            overwrite=overwrite,
        )
    elif shards is not None or levels not in (None, 1):
        raise VolsegError(f"shards and pyramid levels need a zarr output, not {loc.label}.")
    elif loc.fmt == "h5":
        write_h5(
            loc.target,
            loc.key,
            src,
            voxel_size=size,
            offset=shift,
            chunks=chunk_shape,
            attrs=meta,
            overwrite=overwrite,
        )
    else:
        if loc.key:
            raise VolsegError(f"tif outputs have no keys, got {loc.label}.")
        write_tif(loc.target, src, voxel_size=size, offset=shift, attrs=meta, overwrite=overwrite)
    from volseg.io.open import open_volume

    return open_volume(loc.target, loc.key)


_CREATED = {
    "image": None,
    "labels": ("uint32", "uint64"),
    "mask": ("bool",),
    "maps": ("float32", "uint8"),
}


def _created_dtype(dtype: Any, *, kind: str, shape: tuple[int, ...], where: str) -> np.dtype:
    if kind not in _CREATED:
        raise VolsegError(f"kind must be one of {list(_CREATED)}, got {kind!r}.")
    expected = 4 if kind == "maps" else 3
    if len(shape) != expected or min(shape) < 1:
        raise VolsegError(f"{kind} for {where} needs a {expected}D shape, got {shape}.")
    stored = np.dtype(dtype)
    allowed = _CREATED[kind]
    if allowed is None:
        real = np.issubdtype(stored, np.integer) or np.issubdtype(stored, np.floating)
        allowed = (stored.name,) if real else ("a real dtype",)
    if stored.name not in allowed:
        raise VolsegError(f"{kind} volumes are stored as {' or '.join(allowed)}, got {stored}.")
    return stored


def create_volume(
    path: Any,
    *,
    shape: Sequence[int],
    dtype: Any,
    chunks: Any,
    voxel_size: Any,
    kind: str,
    key: str | None = None,
    shards: Any = None,
    attrs: dict[str, Any] | None = None,
    offset: Any = (0.0, 0.0, 0.0),
    overwrite: bool = False,
) -> Volume:
    """Create an empty single-level OME-Zarr 0.5 node for streamed block writes.

    The returned ``Volume.data`` is a writable ``zarr.Array``; write whole chunks (or shards)
    per block. The node is flagged incomplete until :func:`mark_complete`, so a crashed run is
    never mistaken for a finished one (:func:`is_complete`).

    Raises:
        VolsegError: bad shape / dtype / chunks for ``kind``, or an existing output.
    """
    loc = locate_for_write(path, key)
    if loc.fmt != "zarr":
        raise VolsegError(
            f"{loc.label} must be a zarr store (e.g. out.zarr); {loc.fmt} output is not "
            "supported here."
        )
    shape = tuple(int(s) for s in shape)
    stored = _created_dtype(dtype, kind=kind, shape=shape, where=loc.label)
    size = as_triple(voxel_size)
    chunk_shape = _chunks(chunks, shape, size, kind)
    shard_shape = _shape_arg(shards, shape, "shards")
    check_shards(chunk_shape, shard_shape)
    layout = plan_layout(loc.target, loc.key, overwrite=overwrite)
    if overwrite:
        check_replaceable(layout.final, kind=kind)
    with staged(layout.final, overwrite=overwrite, what=layout.label) as tmp:
        build_node(
            layout,
            tmp,
            shape=shape,
            dtype=stored,
            kind=kind,
            voxel_size=size,
            offset=as_triple(offset, name="offset"),
            chunks=chunk_shape,
            shards=shard_shape,
            factors=[],
            attrs=_user_attrs(attrs, {}),
        )
    layout.register_label()
    volume = _open_writable(loc)
    return volume


def _open_writable(loc: Location) -> Volume:
    import zarr

    from volseg.io.open import open_volume

    volume = open_volume(loc.target, loc.key)
    group = zarr.open_group(str(loc.target), path=loc.key or "", mode="r+")
    volume.data = group["s0"]
    return volume


def _node_dir(path: Any, key: str | None) -> tuple[Path, str]:
    loc = locate(path, key) if not isinstance(path, Volume) else locate(path.path or "", None)
    if loc.fmt != "zarr" or not isinstance(loc.target, Path):
        raise VolsegError(f"completion flags live in local zarr stores, not {loc.label}.")
    return loc.target, loc.key or ""


def mark_complete(volume: Volume | Any, key: str | None = None) -> None:
    """Flag a node made by :func:`create_volume` (a ``Volume`` or a path) as finished."""
    root, node = _node_dir(volume, key)
    if node_type(root.joinpath(*node.split("/")) if node else root) != "group":
        raise VolsegError(f"{root}:{node} is not an OME-Zarr group made by create_volume.")
    set_complete(root, node, True)


def is_complete(path: Any, key: str | None = None) -> bool:
    """True when the zarr node exists and carries ``volseg.complete = true``."""
    try:
        root, node = _node_dir(path, key)
    except VolsegError:
        return False
    import zarr

    try:
        group = zarr.open_group(str(root), path=node, mode="r")
    except Exception:  # absent or not a group: not a finished output
        return False
    return bool((group.attrs.get("volseg") or {}).get("complete", False))
