"""Write OME-Zarr 0.5 (zarr v3) multiscale images, label images and maps, atomically.

The node is built under a temporary name beside its final place (the whole store when it is
new) and renamed on success; a label image also gets its name added to the ``labels`` group's
list, last. Level 0 is copied block by block (dask arrays are stored chunk-aligned without
being computed whole); each further level is downsampled from the level before it on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import staged
from volseg.errors import VolsegError
from volseg.io import ome
from volseg.io.blocks import block_shape, iter_blocks
from volseg.io.guard import check_replaceable
from volseg.io.pyramid import downsample, plan_factors
from volseg.io.source import Source, is_dask
from volseg.io.volume import Triple
from volseg.io.zarr_layout import Layout, level_arrays, plan_layout

LEVEL0_BYTES = 64 * 2**20
LEVEL_BYTES = 16 * 2**20


def _copy_level0(src: Source, array: Any) -> None:
    unit = array.shards or array.chunks
    block = block_shape(src.shape, unit, itemsize=src.dtype.itemsize, target_bytes=LEVEL0_BYTES)
    if is_dask(src.data):
        import dask.array as da

        data = src.data.map_blocks(src.convert, dtype=src.dtype).rechunk(block)
        da.store(data, array, lock=False)  # each task writes whole chunks / shards
        return
    for region in iter_blocks(src.shape, block):
        array[region] = src.convert(np.asarray(src.data[region]))


def _downsample_level(source: Any, target: Any, factors: Sequence[int], method: str) -> None:
    unit = target.shards or target.chunks
    block = block_shape(
        target.shape, unit, itemsize=target.dtype.itemsize, target_bytes=LEVEL_BYTES
    )
    for region in iter_blocks(target.shape, block):
        read = tuple(
            slice(r.start * f, min(r.stop * f, n))
            for r, f, n in zip(region, factors, source.shape, strict=True)
        )
        target[region] = downsample(np.asarray(source[read]), factors, method=method)


def _node_attrs(
    kind: str,
    *,
    name: str,
    label_image: bool,
    scales: list[Triple],
    offsets: list[Triple],
    attrs: dict[str, Any],
    complete: bool,
    n_channels: int = 0,
) -> dict[str, Any]:
    method = "mean" if kind in ("image", "maps") else "mode"
    meta = ome.multiscale_attrs(
        name=name, channels=kind == "maps", scales=scales, offsets=offsets, method=method
    )
    if label_image:
        meta["image-label"] = ome.image_label_attrs()
    if kind == "maps" and n_channels:
        meta["omero"] = _omero(attrs, n_channels)
    volseg = {**attrs, "kind": kind, "complete": complete}
    return {"ome": meta, "volseg": volseg}


def _omero(attrs: dict[str, Any], n_channels: int) -> dict[str, Any]:
    """``omero`` channel metadata of a maps node from its channel names (``c0``... when the
    writer named none) and their value ranges in stored units (0-255 when uint8)."""
    from volseg.maps import ATTR, channel_range

    names = list(attrs.get("channels") or (attrs.get(ATTR) or {}).get("channels") or [])
    if len(names) != n_channels:
        names = [f"c{i}" for i in range(n_channels)]
    stored_uint8 = (attrs.get(ATTR) or {}).get("dtype") == "uint8"
    windows = [(0.0, 255.0) if stored_uint8 else channel_range(n) for n in names]
    return ome.omero_attrs(names, windows)


def pyramid_geometry(
    voxel_size: Triple, offset: Triple, factors: list[tuple[int, int, int]]
) -> tuple[list[Triple], list[Triple]]:
    """Voxel size and offset (voxel-centre convention) of every level."""
    scales, offsets = [voxel_size], [offset]
    total = np.ones(3)
    for f in factors:
        total = total * np.asarray(f)
        scales.append(tuple(float(v) for v in np.asarray(voxel_size) * total))  # type: ignore[arg-type]
        shift = np.asarray(offset) + (total - 1) * np.asarray(voxel_size) / 2
        offsets.append(tuple(float(v) for v in shift))  # type: ignore[arg-type]
    return scales, offsets


def build_node(
    layout: Layout,
    tmp: Path,
    *,
    shape: tuple[int, ...],
    dtype: np.dtype,
    kind: str,
    voxel_size: Triple,
    offset: Triple,
    chunks: Any,
    shards: Any,
    factors: list[tuple[int, int, int]],
    attrs: dict[str, Any],
) -> list[Any]:
    """Create the groups and level arrays of a node under ``tmp``; return the level arrays."""
    import zarr

    scales, offsets = pyramid_geometry(voxel_size, offset, factors)
    node_attrs = _node_attrs(
        kind,
        name=layout.name,
        label_image=layout.label_image,
        scales=scales,
        offsets=offsets,
        attrs=attrs,
        complete=False,
        n_channels=shape[0] if kind == "maps" else 0,
    )
    store = zarr.storage.LocalStore(tmp)
    groups = layout.groups_in_tmp
    root_attrs = node_attrs if not groups else groups[0][1]
    node = zarr.create_group(store, zarr_format=3, attributes=root_attrs)
    for path, group_attrs in groups[1:]:
        node.create_group(path, attributes=group_attrs)
    if groups:
        node = node.create_group(layout.node_in_tmp, attributes=node_attrs)
    return level_arrays(
        node, shape=shape, dtype=dtype, kind=kind, chunks=chunks, shards=shards, factors=factors
    )


def write_zarr(
    container: Path,
    key: str | None,
    src: Source,
    *,
    voxel_size: Triple,
    offset: Triple,
    chunks: Any,
    shards: Any,
    levels: int | None,
    attrs: dict[str, Any],
    overwrite: bool,
) -> None:
    """Write ``src`` as an OME-Zarr 0.5 multiscale node ``key`` of the store ``container``."""
    layout = plan_layout(container, key, overwrite=overwrite)
    if overwrite:
        check_replaceable(layout.final, kind=src.kind)
    if layout.label_image:
        src = src.as_label_image()
    factors = plan_factors(src.shape[-3:], voxel_size, levels=levels)
    method = "mean" if src.kind in ("image", "maps") else "mode"
    with staged(layout.final, overwrite=overwrite, what=layout.label) as tmp:
        arrays = build_node(
            layout,
            tmp,
            shape=src.shape,
            dtype=src.dtype,
            kind=src.kind,
            voxel_size=voxel_size,
            offset=offset,
            chunks=chunks,
            shards=shards,
            factors=factors,
            attrs=attrs,
        )
        _copy_level0(src, arrays[0])
        for k, f in enumerate(factors):
            full = (1, *f) if src.kind == "maps" else f
            _downsample_level(arrays[k], arrays[k + 1], full, method)
        set_complete(tmp, layout.node_in_tmp, True)
    layout.register_label()


def set_complete(root: Path, node_path: str, value: bool) -> None:
    """Set ``attrs["volseg"]["complete"]`` of the node ``node_path`` under the store ``root``."""
    update_volseg_attrs(root, node_path, {"complete": value})


def update_volseg_attrs(root: Path, node_path: str, values: dict[str, Any]) -> None:
    """Merge ``values`` into ``attrs["volseg"]`` of the group ``node_path`` under ``root``
    (read back as the volume's ``attrs`` by ``open_volume``)."""
    import zarr

    group = zarr.open_group(zarr.storage.LocalStore(root), path=node_path, mode="r+")
    volseg = dict(group.attrs.get("volseg") or {})
    volseg.update(values)
    group.attrs["volseg"] = volseg


def check_shards(chunks: Sequence[int], shards: Sequence[int] | None) -> None:
    """Shards must be whole multiples of chunks."""
    if shards is not None and any(s % c for s, c in zip(shards, chunks, strict=True)):
        raise VolsegError(f"shards {tuple(shards)} must be multiples of chunks {tuple(chunks)}.")
