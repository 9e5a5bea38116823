"""Open a zarr (v2 or v3) array, group or OME-Zarr (0.4 / 0.5) image lazily.

``Volume.data`` is a read-only ``zarr.Array``: a crop reads only the chunks (or shard parts) it
touches. Opening a multiscale group gives level 0 of its first multiscale (or ``level=``);
opening one of its arrays directly (``x.zarr/s1``) still takes the voxel size from the group.
"""

from __future__ import annotations

from typing import Any

from volseg.errors import VolsegError
from volseg.io.checked import check_chunks
from volseg.io.metadata import offset_from_attrs, resolve, volume_attrs, voxel_size_from_attrs
from volseg.io.ome import level_of_array, read_level
from volseg.io.paths import Location
from volseg.io.volume import Volume

_MAX_LISTED = 20


def list_arrays(group: Any) -> list[str]:
    """Paths of the arrays below a zarr group (recursive), sorted, at most 20."""
    import zarr

    names = sorted(n for n, node in group.members(max_depth=None) if isinstance(node, zarr.Array))
    return names[:_MAX_LISTED] + (["..."] if len(names) > _MAX_LISTED else [])


def open_zarr_root(loc: Location, *, mode: str = "r") -> Any:
    """The zarr node at the container root, or a one-sentence error."""
    import zarr

    target = loc.target if not hasattr(loc.target, "is_dir") else str(loc.target)
    try:
        return zarr.open(target, mode=mode)
    except Exception as exc:  # zarr raises many types for unreadable stores
        raise VolsegError(
            f"cannot read {loc.target}: not a valid zarr array or group ({type(exc).__name__}: "
            f"{exc})."
        ) from None


def node_at(root: Any, key: str | None, loc: Location) -> Any:
    """The node ``key`` below ``root`` (``root`` itself when ``key`` is ``None``)."""
    import zarr

    if not key:
        return root
    if isinstance(root, zarr.Array):
        raise VolsegError(f"{loc.target} is a zarr array and has no key {key!r} inside it.")
    try:
        return root[key]
    except KeyError:
        raise VolsegError(
            f"key {key!r} not found in {loc.target}; available arrays: {list_arrays(root)}."
        ) from None


def _parent_attrs(root: Any, key: str | None) -> dict[str, Any]:
    if not key:
        return {}
    parent_key = key.rpartition("/")[0]
    return (root[parent_key] if parent_key else root).attrs.asdict()


def open_zarr(
    loc: Location, *, voxel_size: Any = None, offset: Any = None, level: int | None = None
) -> Volume:
    """Open ``loc`` lazily as a ``Volume`` (see the module docstring)."""
    import zarr

    root = open_zarr_root(loc)
    node = node_at(root, loc.key, loc)
    where = loc.label
    if isinstance(node, zarr.Group):
        attrs = node.attrs.asdict()
        ome = read_level(attrs, level=level or 0, where=where)
        if ome is None:
            arrays = list_arrays(node)
            if not arrays:
                raise VolsegError(f"{where} is a zarr group that holds no arrays.")
            prefix = f"{loc.key}/" if loc.key else ""
            raise VolsegError(
                f"{where} is a zarr group without OME-Zarr multiscales; name one of its arrays "
                f"{arrays} after a colon, e.g. {loc.target}:{prefix}{arrays[0]}."
            )
        try:
            array = node[ome.path]
        except KeyError:
            raise VolsegError(f"OME level path {ome.path!r} is missing in {where}.") from None
        meta = volume_attrs(attrs)
        meta.update(level=level or 0, n_levels=ome.n_levels)
        found, shift = (ome.voxel_size, ome.source), ome.offset
    else:
        if level is not None:
            raise VolsegError(
                f"level= needs an OME-Zarr multiscale group, but {where} is an array."
            )
        array = node
        attrs = node.attrs.asdict()
        parent = _parent_attrs(root, loc.key)
        ome = level_of_array(parent, (loc.key or "").rpartition("/")[2], where=where)
        meta = volume_attrs(attrs)
        if ome is not None:  # an array of a multiscale group: the group has the geometry
            found, shift = (ome.voxel_size, ome.source), ome.offset
            meta = {**volume_attrs(parent), **meta}
        else:
            found = voxel_size_from_attrs(attrs, ndim=array.ndim, where=where)
            shift = offset_from_attrs(attrs, ndim=array.ndim, where=where)
    check_chunks(array, where, group_attrs=attrs if isinstance(node, zarr.Group) else parent)
    size, shift, source = resolve(
        explicit_size=voxel_size, explicit_offset=offset, found_size=found, found_offset=shift
    )
    meta.update(voxel_size_source=source, format="zarr")
    return Volume(array, size, shift, path=where, attrs=meta)
