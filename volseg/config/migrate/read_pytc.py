"""Read a PyTorch Connectomics config into one flat ``{dotted.key: value}`` mapping.

Both PyTC schemas are read:

- 2025 tutorials: sections ``system``/``model``/``data``/... with ``base_config`` includes
  (a path relative to the file; the file's own keys win).
- 2026: ``default``/``train``/``test`` stages with ``_base_`` includes. ``default`` and ``train``
  merge (train wins) into the training sections; the test stage's ``data.test.image`` becomes
  ``test.data.test_image``, its ``inference``/``decoding``/``evaluation`` join the same keys of
  the 2025 shape, so one rule table serves both.

Subtrees listed in :data:`ATOMIC` stay whole (their converters read them as one value).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from volseg.config.migrate.table import Row
from volseg.config.yamlio import parse_yaml
from volseg.errors import VolsegError

#: Keys whose whole value one converter reads (mappings not flattened further).
ATOMIC = frozenset(
    {
        "optimization.scheduler",
        "scheduler",
        "tune",
        "tuning",
        "params",
        "model.loss.losses",
        "model.loss_balancing",
        "model.loss.loss_balancing",
        "model.rsunet",
        "inference.postprocessing",
        "inference.save_prediction",
        "monitor.logging.images",
    }
)
_STAGE_SECTIONS = ("default", "train")
_INCLUDE_KEYS = ("base_config", "_base_")


def read_yaml(path: Path, shown: str) -> Any:
    """Parse one YAML file; a missing file or bad YAML is a one-sentence error."""
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise VolsegError(f"config file {shown} {what}.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VolsegError(f"config file {shown} cannot be read: {exc}.") from None
    return parse_yaml(text, source=shown)


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge recursively; anything else in ``top`` replaces."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def with_includes(raw: dict[str, Any], folder: Path, rows: list[Row]) -> dict[str, Any]:
    """``raw`` merged over its ``base_config``/``_base_`` files (those found; rows for the rest)."""
    tree: dict[str, Any] = {}
    own = dict(raw)
    for key in _INCLUDE_KEYS:
        value = own.pop(key, None)
        for ref in [value] if isinstance(value, str) else value or []:
            full = folder / os.path.expanduser(str(ref))
            if full.is_file():
                sub = read_yaml(full, str(ref))
                if isinstance(sub, dict):
                    tree = merge(tree, with_includes(sub, full.parent, rows))
                    rows.append(Row(key, "converted", "(merged)", f"included {ref} was merged in"))
                    continue
            rows.append(
                Row(key, "untranslated", "_base_",
                    f"{ref} is not here (PyTC resolves it against its own repository); its keys "
                    "are not migrated, add a volseg `_base_` for them")
            )  # fmt: skip
    return merge(tree, own)


def _flatten(node: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(node, Mapping) and node and prefix not in ATOMIC:
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = node


def _unstage(tree: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A 2026 staged tree in the 2025 shape, and each new key's original name."""
    flat: dict[str, Any] = {}
    origin: dict[str, str] = {}

    def put(key: str, value: Any, orig: str) -> None:
        flat[key] = value
        origin[key] = orig

    for stage in _STAGE_SECTIONS:
        part: dict[str, Any] = {}
        _flatten(tree.get(stage) or {}, "", part)
        part.pop("", None)
        for key, value in part.items():
            new = f"test.{key}" if key.startswith(("decoding", "evaluation")) else key
            put(new, value, f"{stage}.{key}")
    test: dict[str, Any] = {}
    _flatten(tree.get("test") or {}, "", test)
    for key, value in test.items():
        if key.startswith("data.test."):
            new = "test.data.test_" + key[len("data.test.") :]
        elif key.startswith(("decoding", "evaluation")):
            new = "test." + key
        else:
            new = key
        if key:
            put(new, value, f"test.{key}")
    for key, value in tree.items():
        if key not in (*_STAGE_SECTIONS, "test"):
            part = {}
            _flatten(value, key, part)
            for k, v in part.items():
                put(k, v, k)
    return flat, origin


def is_staged(tree: Mapping[str, Any]) -> bool:
    """Whether a tree uses the 2026 ``default``/``train``/``test`` stage layout."""
    return any(isinstance(tree.get(s), Mapping) for s in _STAGE_SECTIONS)


def read_pytc(path: Path, shown: str) -> tuple[dict[str, Any], dict[str, str], list[Row], str]:
    """Read a PyTC file (includes merged) into flat keys in the 2025 shape.

    Returns:
        ``(flat, origin, rows, schema)``: the values by dotted key, each key's name in the
        file when it differs, rows for the includes, and ``"2025"`` or ``"2026"``.
    """
    raw = read_yaml(path, shown)
    if not isinstance(raw, dict):
        raise VolsegError(f"{shown}: a config must be a mapping of sections, got {raw!r}.")
    rows: list[Row] = []
    tree = with_includes(raw, path.parent, rows)
    if is_staged(tree):
        from volseg.config.migrate.profiles import resolve_profiles

        flat, origin = _unstage(resolve_profiles(tree, rows))
        return flat, origin, rows, "2026"
    flat = {}
    _flatten(tree, "", flat)
    flat.pop("", None)
    return flat, {}, rows, "2025"
