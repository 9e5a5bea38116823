"""Read a config: YAML files with ``_base_`` inheritance, then overrides, then checks.

Order: every ``_base_`` file (a path or a list, relative to the file naming it) is read first,
in order, recursively; the file's own keys override its bases (mappings merge, lists and
scalars replace); schema defaults fill the rest; ``key=value`` overrides apply last. Each file
is checked on its own (so a message names the file at fault), the result as a whole after.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from volseg.config.overrides import apply_override
from volseg.config.paths import resolve_section_paths
from volseg.config.schema import Config
from volseg.config.typecheck import check_section
from volseg.config.validate import validate
from volseg.config.yamlio import parse_yaml
from volseg.errors import VolsegError


def load(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> DictConfig:
    """Read, merge, check and resolve a YAML config file.

    Args:
        path: the YAML file.
        overrides: ``dotted.key=value`` strings applied after the files.

    Returns:
        A read-only structured ``DictConfig`` of :class:`~volseg.config.schema.Config`;
        paths in it are absolute.

    Raises:
        VolsegError: one sentence for a missing file, bad YAML, unknown key, bad value...
    """
    shown = str(path)
    merged = _read_tree(Path(path), shown, ())
    return _finish(merged, overrides, where=shown)


def loads(
    text: str,
    overrides: Iterable[str] = (),
    source: str = "<string>",
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> DictConfig:
    """Like :func:`load` for YAML text; ``_base_`` and relative paths use ``base_dir``
    (default: the working directory)."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    merged = _parse_tree(text, source, base, ())
    return _finish(merged, overrides, where=source)


def to_yaml(cfg: DictConfig) -> str:
    """The resolved config as YAML text (loading it again gives an equal config)."""
    return OmegaConf.to_yaml(cfg)


def count_keys(cfg: DictConfig) -> int:
    """Number of leaf keys (lists count as one value)."""

    def count(node: Any) -> int:
        if isinstance(node, Mapping):
            return sum(count(v) for v in node.values())
        return 1

    return count(OmegaConf.to_container(cfg))


@functools.cache
def _template() -> DictConfig:
    """The structured schema, built once (building it costs ~0.1 s; merge copies it)."""
    return OmegaConf.structured(Config)


def _read_tree(path: Path, shown: str, chain: tuple[Path, ...]) -> dict[str, Any]:
    real = Path(os.path.abspath(path))
    if real in chain:
        cycle = " -> ".join(p.name for p in (*chain, real))
        raise VolsegError(f"{shown}: `_base_` inheritance has a cycle: {cycle}.")
    if not real.is_file():
        what = "is not a file" if real.exists() else "does not exist"
        raise VolsegError(f"config file {shown} {what}.")
    try:
        text = real.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VolsegError(f"config file {shown} cannot be read: {exc}.") from None
    return _parse_tree(text, shown, real.parent, (*chain, real))


def _parse_tree(text: str, shown: str, base: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    raw = parse_yaml(text, source=shown)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise VolsegError(f"{shown}: a config must be a mapping of sections, got {raw!r}.")
    _point_to_migrate(raw, shown)  # before its `_base_`, which may name PyTC's own files
    raw = dict(raw)
    bases = raw.pop("_base_", None)
    if isinstance(bases, str):
        bases = [bases]
    if bases is None:
        bases = []
    if not isinstance(bases, list) or not all(isinstance(b, str) and b for b in bases):
        raise VolsegError(f"{shown}: `_base_` must be a path or a list of paths, got {bases!r}.")
    merged: dict[str, Any] = {}
    for b in bases:
        b_path = Path(os.path.expanduser(b))
        full = b_path if b_path.is_absolute() else base / b_path
        if not full.is_file():
            raise VolsegError(f"{shown}: `_base_` file {b} does not exist (looked for {full}).")
        b_shown = os.path.normpath(os.path.join(os.path.dirname(shown), b)) if chain else b
        merged = _merge(merged, _read_tree(full, b_shown, chain))
    own = check_section(raw, Config, "", shown)
    resolve_section_paths(own, Config, base, where=shown)
    return _merge(merged, own)


def _point_to_migrate(raw: dict[str, Any], shown: str) -> None:
    """A file with keys only PyTorch Connectomics has (never valid here): name migrate."""
    from volseg.config.migrate.detect import pointer, pytc_reason

    reason = pytc_reason(raw)
    if reason is not None:
        raise VolsegError(pointer(shown, reason)) from None


def _merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _finish(merged: dict[str, Any], overrides: Iterable[str], *, where: str) -> DictConfig:
    if isinstance(overrides, str):
        raise VolsegError(f"overrides must be a list of key=value strings, got {overrides!r}.")
    cfg = _merge(dataclasses.asdict(Config()), merged)
    for text in overrides:
        apply_override(cfg, text, cwd=Path.cwd())
    validate(cfg, where)
    try:
        out = OmegaConf.merge(_template(), cfg)
    except OmegaConfBaseException as exc:  # the checks above should make this unreachable
        raise VolsegError(f"{where}: config does not fit the schema: {exc}") from None
    OmegaConf.set_readonly(out, True)
    return out  # type: ignore[return-value]
