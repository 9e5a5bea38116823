"""Guards for writers: never write into an input, and replace only what volseg wrote.

- :func:`refuse_overlap`: an output that is, contains or lies inside one of the command's
  inputs is refused before anything is written, ``--overwrite`` or not. Paths are compared
  resolved (symlinks, ``..`` and relative spellings), and inside an h5 file by dataset key.
- :func:`check_replaceable`: ``--overwrite`` may replace an existing output only when volseg
  wrote it: every zarr node in it carries volseg's attributes (``volseg.kind``), the node being
  replaced holds the kind being written, an h5 dataset has its ``volseg`` attribute, a tif its
  volseg description. Anything else (a user's raw data, a foreign store) is refused.

Commands call :func:`refuse_overlap` with every path they read; the writers in
:mod:`volseg.io.write` call :func:`check_replaceable` before replacing anything.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError

# the arrays volseg puts in a node: pyramid levels, per-block completion markers and the
# network-grid maps a rescaled prediction keeps until it finishes
_VOLSEG_ARRAY = re.compile(r"s\d+|volseg_done|volseg_netmaps")


@dataclass(frozen=True)
class Place:
    """Where a path points on disk: the resolved container file/dir and the key inside it."""

    path: Path
    fmt: str  # "zarr", "h5", "tif" or "dir"
    key: tuple[str, ...]

    @property
    def physical(self) -> Path:
        """The directory or file holding the node (zarr nodes are directories)."""
        return self.path.joinpath(*self.key) if self.fmt == "zarr" else self.path


def place(spec: Any) -> Place | None:
    """The resolved :class:`Place` of ``spec`` (``x.zarr/key``, ``f.h5:key``, a tif, a folder);
    None for URLs, stores and in-memory data (nothing on the local disk to protect)."""
    from volseg.io.paths import locate_for_write

    path = getattr(spec, "path", spec) if not isinstance(spec, str | os.PathLike) else spec
    if not isinstance(path, str | os.PathLike):
        return None
    text = os.fspath(path)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if "://" in text:
        return None
    if any(c in text for c in "*?["):  # a glob of tif slices: their folder
        return Place(Path(text).parent.resolve(), "dir", ())
    try:
        loc = locate_for_write(text)
    except VolsegError:  # a folder of tif slices, a checkpoint, a run folder
        return Place(Path(text).resolve(), "dir", ())
    fmt = "tif" if loc.fmt.startswith("tif") else loc.fmt
    key = tuple(p for p in (loc.key or "").split("/") if p)
    return Place(Path(loc.target).resolve(), fmt, key)


def canonical(spec: Any) -> str:
    """One spelling of a path per place on disk, to recognise an input on resume: the resolved
    ``container[:key]`` (symlinks, ``..``, ``file://`` and relative spellings folded); URLs and
    stores are returned as given."""
    where = place(spec)
    if where is None:
        return str(getattr(spec, "path", spec))
    return f"{where.path}:{'/'.join(where.key)}" if where.key else str(where.path)


def _inside(inner: Place, outer: Place) -> bool:
    """Whether ``inner`` is ``outer`` or lies inside it."""
    if inner.fmt == "h5" and outer.fmt == "h5":
        return inner.path == outer.path and inner.key[: len(outer.key)] == outer.key
    a, b = inner.physical, outer.physical
    return a == b or b in a.parents


def overlap(out: Any, source: Any) -> str | None:
    """``"is"``, ``"is inside"`` or ``"contains"`` when the output ``out`` and the input
    ``source`` share bytes on disk, else None."""
    a, b = place(out), place(source)
    if a is None or b is None:
        return None
    if _inside(a, b) and _inside(b, a):
        return "is"
    if _inside(a, b):
        return "is inside"
    if _inside(b, a):
        return "contains"
    return None


def refuse_overlap(
    out: Any, inputs: Mapping[str, Any] | Iterable[Any], *, option: str = "--out"
) -> None:
    """Refuse an output that is, contains or lies inside one of ``inputs``.

    Args:
        out: the output path (``pred.zarr``, ``seg.zarr/maps``, ``file.h5:key``, a run folder).
        inputs: ``{role: path}`` (or paths) the command reads; None entries are skipped.
        option: how the output is named in the message.

    Raises:
        VolsegError: one sentence naming the output, the input and the relation.
    """
    items = inputs.items() if isinstance(inputs, Mapping) else (("input", p) for p in inputs)
    for role, source in items:
        if source is None:
            continue
        relation = overlap(out, source)
        if relation is not None:
            name = getattr(source, "path", source)
            raise VolsegError(
                f"{option} {out} {relation} the {role} {name}; volseg never writes into its own "
                "input (with or without --overwrite): choose another output path."
            )


def _zarr_meta(folder: Path) -> dict[str, Any] | None:
    meta = folder / "zarr.json"
    if not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except ValueError:
        return {}


def _foreign_zarr(root: Path, kind: str | None) -> str | None:
    """Why the zarr node ``root`` is not volseg's own output of ``kind`` (None when it is)."""
    top = _zarr_meta(root)
    if top is None:
        return "it is not a zarr v3 node written by volseg"
    volseg = (top.get("attributes") or {}).get("volseg")
    if kind is not None and (not isinstance(volseg, dict) or volseg.get("kind") != kind):
        found = volseg.get("kind") if isinstance(volseg, dict) else None
        return f"it holds {found or 'data volseg did not write'}, not {kind}"
    for meta_path in sorted(root.rglob("zarr.json")):
        folder = meta_path.parent
        meta = _zarr_meta(folder) or {}
        owner = folder if meta.get("node_type") == "group" else folder.parent
        attrs = (_zarr_meta(owner) or {}).get("attributes") or {}
        ours = "volseg" in (meta.get("attributes") or {}) or (
            isinstance(attrs.get("volseg"), dict) and _VOLSEG_ARRAY.fullmatch(folder.name)
        )
        if meta.get("node_type") == "array" and not ours:
            return f"{folder.relative_to(root.parent)} was not written by volseg"
    return None


def _foreign_h5(path: Path, key: str, kind: str | None) -> str | None:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if key not in handle:
                return None
            node = handle[key]
            raw = node.attrs.get("volseg") if isinstance(node, h5py.Dataset) else None
    except OSError:
        return "it is not an h5 file volseg can read"
    try:
        volseg = json.loads(raw) if raw is not None else None
    except (TypeError, ValueError):
        volseg = None
    if not isinstance(volseg, dict):
        return "it was not written by volseg"
    if kind is not None and volseg.get("kind") != kind:
        return f"it holds {volseg.get('kind')}, not {kind}"
    return None


def _foreign_tif(path: Path) -> str | None:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            description = tif.pages[0].description if tif.pages else ""
    except Exception:  # any unreadable file is not one of ours
        return "it is not a tif file written by volseg"
    return None if '"volseg"' in (description or "") else "it was not written by volseg"


def check_replaceable(target: Any, *, kind: str | None = None, key: str | None = None) -> None:
    """Refuse to replace ``target`` unless volseg wrote it (see the module docstring).

    Args:
        target: the existing output: a zarr node directory, an h5 file (with ``key``) or a tif.
        kind: the kind about to be written (``image``, ``labels``, ``maps``, ``mask``); the
            existing node must hold the same kind. None: any volseg output.
        key: the dataset inside an h5 file.

    Raises:
        VolsegError: the existing output was not written by volseg, or holds another kind.
    """
    path = Path(target)
    if not path.exists():
        return
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".hdf") and path.is_file():
        why = _foreign_h5(path, key or "", kind) if key else "it is a whole h5 file"
        label = f"{path}:{key}" if key else str(path)
    elif suffix in (".tif", ".tiff") and path.is_file():
        why, label = _foreign_tif(path), str(path)
    else:
        why, label = _foreign_zarr(path, kind), str(path)
    if why:
        raise VolsegError(
            f"{label} exists and {why}; --overwrite replaces only an earlier volseg output of "
            "the same kind: choose another output path, or remove it yourself."
        )
