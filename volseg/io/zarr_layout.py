"""Where a new zarr node goes: which directory is staged and renamed, which groups it holds.

``x.zarr`` (new) -> the whole store is staged. ``x.zarr:raw`` in an existing store -> only
``raw`` is staged. ``x.zarr:labels/cells`` -> ``labels/cells`` is staged (or all of ``labels``
when that group is new), and the ``labels`` group's list is updated after the rename.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError
from volseg.io import ome


def node_type(path: Path) -> str | None:
    """``"group"`` / ``"array"`` for a zarr v3 node, ``"v2"`` for zarr v2, ``None`` if absent."""
    meta = path / "zarr.json"
    if meta.is_file():
        try:
            return str(json.loads(meta.read_text())["node_type"])
        except (ValueError, KeyError):
            raise VolsegError(f"cannot read {meta}: not valid zarr v3 metadata.") from None
    if (path / ".zgroup").is_file() or (path / ".zarray").is_file():
        return "v2"
    return None


@dataclass
class Layout:
    """The plan for staging one node of a zarr store (see the module docstring)."""

    container: Path
    key: str | None
    final: Path
    node_in_tmp: str
    groups_in_tmp: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    labels_group: Path | None = None  # an existing ``labels`` group to list the label in

    @property
    def label(self) -> str:
        return f"{self.container}:{self.key}" if self.key else str(self.container)

    @property
    def name(self) -> str:
        if self.key:
            return self.key.rsplit("/", 1)[-1]
        return self.container.name.removesuffix(".zarr").removesuffix(".ome")

    @property
    def label_image(self) -> bool:
        parts = (self.key or "").split("/")
        return len(parts) >= 2 and parts[-2] == "labels"

    def register_label(self) -> None:
        """Add the label image's name to an existing ``labels`` group (done last)."""
        if not (self.label_image and self.labels_group is not None):
            return
        import zarr

        group = zarr.open_group(zarr.storage.LocalStore(self.labels_group), mode="r+")
        meta = dict(group.attrs.get("ome") or {})
        names = list(meta.get("labels") or [])
        if self.name not in names:
            names.append(self.name)
        group.attrs["ome"] = {**ome.labels_list_attrs(names), **meta, "labels": names}


def _group_attrs(path_parts: list[str], key_parts: list[str]) -> dict[str, Any]:
    """Attributes of a group created on the way to the node (a new ``labels`` group lists it)."""
    is_labels = len(path_parts) == len(key_parts) - 1 and path_parts and path_parts[-1] == "labels"
    return {"ome": ome.labels_list_attrs([key_parts[-1]])} if is_labels else {}


def plan_layout(container: Path, key: str | None, *, overwrite: bool) -> Layout:
    """Plan the staging of node ``key`` of ``container`` (``None``: the store root).

    Raises:
        VolsegError: the store exists but is not a zarr v3 group, or a path component
            is an array.
    """
    parts = [p for p in (key or "").split("/") if p]
    key = "/".join(parts) or None
    kind = node_type(container) if container.exists() else None
    if container.exists() and parts and kind != "group":
        what = "zarr v2" if kind == "v2" else "not a zarr v3 group"
        raise VolsegError(f"cannot add {key!r} to {container}: the store is {what}.")
    if not parts or not container.exists():
        groups = [("/".join(parts[:i]), _group_attrs(parts[:i], parts)) for i in range(len(parts))]
        return Layout(container, key, container, "/".join(parts), groups)
    depth, current = 0, container
    while depth < len(parts) and (current / parts[depth]).exists():
        if depth < len(parts) - 1 and node_type(current / parts[depth]) != "group":
            raise VolsegError(
                f"cannot write {key!r} in {container}: {parts[depth]!r} is not a group."
            )
        current, depth = current / parts[depth], depth + 1
    labels_dir = container.joinpath(*parts[:-1]) if len(parts) >= 2 else None
    labels_group = labels_dir if labels_dir is not None and labels_dir.exists() else None
    if depth == len(parts):
        return Layout(container, key, current, "", [], labels_group)
    rest = parts[depth:]
    groups = [
        (
            "/".join(rest[1:i]),
            _group_attrs(parts[: depth + i], parts),
        )
        for i in range(1, len(rest))
    ]
    return Layout(container, key, current / rest[0], "/".join(rest[1:]), groups, labels_group)


def level_arrays(
    node: Any,
    *,
    shape: tuple[int, ...],
    dtype: Any,
    kind: str,
    chunks: tuple[int, ...],
    shards: tuple[int, ...] | None,
    factors: list[tuple[int, int, int]],
) -> list[Any]:
    """Create the empty arrays ``s0``, ``s1``, ... of a multiscale group."""
    dims = ("c", "z", "y", "x") if kind == "maps" else ("z", "y", "x")
    arrays, current = [], tuple(shape)
    for level in range(len(factors) + 1):
        if level:
            f = (1, *factors[level - 1]) if kind == "maps" else factors[level - 1]
            current = tuple(-(-n // k) for n, k in zip(current, f, strict=True))
        level_chunks = tuple(min(c, n) for c, n in zip(chunks, current, strict=True))
        level_shards = None
        if shards is not None:
            level_shards = tuple(
                -(-min(s, n) // c) * c
                for s, n, c in zip(shards, current, level_chunks, strict=True)
            )
        arrays.append(
            node.create_array(
                f"s{level}",
                shape=current,
                dtype=dtype,
                chunks=level_chunks,
                shards=level_shards,
                dimension_names=dims,
                fill_value=0,
            )
        )
    return arrays
