"""Resolve the data and weight paths of a config against the folder of the file naming them."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any

from volseg.config.typecheck import is_optional, type_hints
from volseg.errors import VolsegError

# ``file.h5:key`` names a dataset inside a container; the colon counts only after a container
# suffix, as in volseg.io.paths, so other colons stay part of the file name.
_COLON_KEY = re.compile(r"^(?P<file>.+?\.(?:h5|hdf5|hdf|zarr|tif|tiff)):(?P<key>.*)$", re.I)


def resolve_path(value: str, base: Path, *, key: str, where: str) -> str:
    """``value`` made absolute against ``base``; a ``:key`` suffix and URLs are kept.

    ``vol.h5:raw`` -> ``/abs/dir/vol.h5:raw``; ``s3://bucket/x.zarr`` is left alone.
    """
    if not value.strip():
        raise VolsegError(f"{where}: `{key}` must be a path, got an empty string.")
    if "://" in value:
        return value
    match = _COLON_KEY.match(value)
    file, sep, inner = (match["file"], ":", match["key"]) if match else (value, "", "")
    file = os.path.expanduser(file)
    if not os.path.isabs(file):
        file = os.path.join(base, file)
    return os.path.normpath(file) + sep + inner


def resolve_section_paths(
    data: dict[str, Any], cls: type, base: Path, *, where: str, prefix: str = ""
) -> None:
    """Resolve, in place, every path field present in a checked (partial) section dict."""
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        key = f"{prefix}{f.name}"
        value = data[f.name]
        kind = f.metadata.get("path")
        if kind == "one" and value is not None:
            data[f.name] = resolve_path(value, base, key=key, where=where)
        elif kind == "many":
            data[f.name] = [resolve_path(v, base, key=key, where=where) for v in value]
        else:
            inner = is_optional(hints[f.name])[1]
            if dataclasses.is_dataclass(inner) and isinstance(value, dict):
                resolve_section_paths(value, inner, base, where=where, prefix=f"{key}.")
