"""Command-line overrides: ``section.key=value`` with the value read as YAML.

``model.filters=[8,16]``, ``data.train_image=/x.h5:raw``, ``test.decoding.0.kwargs.h=0.1``
(an integer segment indexes a list of sections), ``tune.parameters.binary_threshold.0=[0.8]``
(inside a free mapping the rest of the key is one name). Relative paths in override values
are resolved against the working directory.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Any

from volseg.config.paths import resolve_path
from volseg.config.schema import SECTIONS, Config
from volseg.config.suggest import dataclass_paths, suggest_key
from volseg.config.typecheck import convert, is_optional, type_hints
from volseg.config.yamlio import parse_yaml
from volseg.errors import VolsegError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_\-]+)*$")


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key=value`` and read the value as YAML (an empty value is null)."""
    key, eq, raw = text.partition("=")
    key = key.strip()
    if not eq or not _KEY.match(key):
        raise VolsegError(
            f"override {text!r} must look like key=value with a dotted key "
            "(e.g. model.filters=[8,16])."
        )
    return key, parse_yaml(raw, source=f"override `{text}`")


def _unknown(path: str, cls: type, where: str) -> VolsegError:
    siblings = [f.name for f in dataclasses.fields(cls)]
    section = path.split(".")[0]
    root = SECTIONS.get(section)
    paths = [f"{section}.{p}" for p in dataclass_paths(root)] if root else []
    return VolsegError(f"{where}: unknown key `{path}`{suggest_key(path, siblings, paths)}")


def apply_override(cfg: dict[str, Any], text: str, *, cwd: Path) -> None:
    """Apply one override to a full (defaults-filled) config dict, checking key and value."""
    key, value = parse_override(text)
    _set(cfg, Config, key.split("."), value, "", f"override `{text}`", cwd)


def _set(
    node: dict, cls: type, parts: list[str], value: Any, prefix: str, where: str, cwd: Path
) -> None:
    part, rest = parts[0], parts[1:]
    path = f"{prefix}.{part}" if prefix else part
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if part not in fields:
        raise _unknown(path, cls, where)
    hint = type_hints(cls)[part]
    inner = is_optional(hint)[1]
    if not rest:
        node[part] = _convert_value(value, hint, fields[part].metadata, path, where, cwd)
        return
    if dataclasses.is_dataclass(inner):
        return _set(node[part], inner, rest, value, path, where, cwd)
    if typing.get_origin(inner) is dict:
        node[part][".".join(rest)] = value  # kwargs and sweep spaces: checked as a whole later
        return
    elem = typing.get_args(inner)[0] if typing.get_origin(inner) is list else None
    if elem is None or not dataclasses.is_dataclass(elem):
        raise VolsegError(
            f"{where}: `{path}` takes a whole value; set it as {path}=... "
            "(e.g. a full list) instead of a part of it."
        )
    items, index = node[part], rest[0]
    if not index.isdigit() or int(index) >= len(items):
        raise VolsegError(
            f"{where}: `{path}` has {len(items)} entr{'y' if len(items) == 1 else 'ies'}; "
            f"{index!r} is not one of its indices."
        )
    if len(rest) == 1:
        items[int(index)] = convert([value], inner, {}, path, where)[0]
        return
    return _set(items[int(index)], elem, rest[1:], value, f"{path}.{index}", where, cwd)


def _convert_value(value: Any, hint: Any, meta: Any, path: str, where: str, cwd: Path) -> Any:
    kind = meta.get("path")
    if kind == "many":
        value = [] if value is None else [value] if isinstance(value, str) else value
    out = convert(value, hint, meta, path, where)
    if kind == "one" and out is not None:
        out = resolve_path(out, cwd, key=path, where=where)
    elif kind == "many":
        out = [resolve_path(v, cwd, key=path, where=where) for v in out]
    return out
