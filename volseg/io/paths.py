"""Turn ``path_or_url`` (plus an optional ``key``) into a format, a container and an inner key.

Accepted spellings: ``file.h5``, ``file.h5:key``, ``file.h5/key``, ``x.zarr``, ``x.zarr:path``,
``x.zarr/path/in/group``, ``file.tif``, a directory of 2D tif slices, a glob such as
``slices/*.tif``, ``file://`` paths, other URLs (zarr via fsspec) and zarr ``Store`` objects.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError

SUFFIX_FORMATS = {
    ".h5": "h5",
    ".hdf5": "h5",
    ".hdf": "h5",
    ".zarr": "zarr",
    ".tif": "tif",
    ".tiff": "tif",
}
_KNOWN = ", ".join(sorted(SUFFIX_FORMATS))
_COLON_KEY = re.compile(
    r"^(?P<file>.+?\.(?:h5|hdf5|hdf|zarr|tif|tiff)):(?P<key>.*)$", re.IGNORECASE
)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]+://")
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Location:
    """Where a volume lives.

    Attributes:
        fmt: ``"h5"``, ``"zarr"``, ``"tif"`` (one file) or ``"tif-stack"`` (slices).
        target: a local ``Path`` (file, directory or glob), a URL string, or a zarr store object.
        key: the dataset / node path inside the container, or ``None``.
    """

    fmt: str
    target: Any
    key: str | None

    @property
    def label(self) -> str:
        """A human-readable name for messages, e.g. ``x.zarr:labels/cells``."""
        base = str(self.target)
        return f"{base}:{self.key}" if self.key else base


def _is_zarr_dir(path: Path) -> bool:
    return any((path / name).is_file() for name in ("zarr.json", ".zgroup", ".zarray"))


def _merge_key(inner: str | None, key: str | None, where: str) -> str | None:
    inner = inner.strip("/") if inner else None
    key = key.strip("/") if key else None
    if inner and key and inner != key:
        raise VolsegError(f"{where} names key {inner!r} but key={key!r} was also given; give one.")
    return inner or key or None


def _format_of(path: Path) -> str | None:
    return SUFFIX_FORMATS.get(path.suffix.lower())


def locate(path_or_url: Any, key: str | None = None) -> Location:
    """Find the format, container and inner key of an existing volume.

    Raises:
        VolsegError: the path does not exist or its format is unknown.
    """
    if not isinstance(path_or_url, str | os.PathLike):
        from zarr.abc.store import Store

        if isinstance(path_or_url, Store):
            return Location("zarr", path_or_url, _merge_key(None, key, "store"))
        raise VolsegError(f"expected a path, URL or zarr store, got {type(path_or_url).__name__}.")
    text = os.fspath(path_or_url)
    if text.startswith("file://"):
        text = text[len("file://") :]
    elif _URL.match(text):
        match = _COLON_KEY.match(text.split("://", 1)[1])
        if match:
            scheme = text.split("://", 1)[0]
            return Location(
                "zarr", f"{scheme}://{match['file']}", _merge_key(match["key"], key, text)
            )
        return Location("zarr", text, _merge_key(None, key, text))
    match = _COLON_KEY.match(text)
    if match and not Path(text).exists():
        text, key = match["file"], _merge_key(match["key"], key, text)
    if _GLOB.search(text) and not Path(text).exists():
        if key:
            raise VolsegError(f"a glob of tif slices ({text}) takes no key, got key={key!r}.")
        return Location("tif-stack", Path(text), None)
    path = Path(text)
    # The outermost ``*.zarr`` / ``*.h5`` is the container: ``x.zarr/labels/cells`` opens the
    # node ``labels/cells`` of the store ``x.zarr``, so parent metadata (OME) stays visible.
    for parent in reversed(path.parents):
        if parent.name and _format_of(parent) in ("h5", "zarr") and parent.exists():
            inner = path.relative_to(parent).as_posix()
            return _existing(parent, _merge_key(inner, key, text))
    if path.exists():
        return _existing(path, key)
    raise VolsegError(f"{text} does not exist.")


def _existing(path: Path, key: str | None) -> Location:
    fmt = _format_of(path)
    if path.is_dir():
        if fmt == "zarr" or _is_zarr_dir(path):
            return Location("zarr", path, key)
        if any(p.suffix.lower() in (".tif", ".tiff") for p in path.iterdir()):
            if key:
                raise VolsegError(f"a directory of tif slices ({path}) takes no key, got {key!r}.")
            return Location("tif-stack", path, None)
        raise VolsegError(
            f"{path} is a directory that is neither a zarr store nor a folder of tif slices."
        )
    if fmt is None or fmt == "zarr":
        raise VolsegError(f"unknown volume format for {path}; expected one of {_KNOWN}.")
    if fmt == "tif" and key:
        raise VolsegError(f"tif files have no keys, got key={key!r} for {path}.")
    return Location(fmt, path, key)


def locate_for_write(path: Any, key: str | None = None) -> Location:
    """Split an output path into format, container path and inner key (nothing need exist).

    Raises:
        VolsegError: the path is a URL/store or has no known container suffix.
    """
    if not isinstance(path, str | os.PathLike):
        raise VolsegError(f"outputs are written to local paths, got {type(path).__name__}.")
    text = os.fspath(path)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if _URL.match(text):
        raise VolsegError(f"writing to URLs is not supported ({text}); write to a local path.")
    match = _COLON_KEY.match(text)
    if match:
        text, key = match["file"], _merge_key(match["key"], key, text)
    parts = Path(text).parts
    for i, part in enumerate(parts):
        fmt = _format_of(Path(part))
        if fmt:
            container = Path(*parts[: i + 1])
            inner = "/".join(parts[i + 1 :]) or None
            return Location(fmt, container, _merge_key(inner, key, text))
    raise VolsegError(f"cannot tell the output format of {text}; expected a suffix in {_KNOWN}.")
