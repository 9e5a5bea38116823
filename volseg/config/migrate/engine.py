"""Apply the rule table to every key of a flat PyTC config."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from volseg.config.migrate.rules import find
from volseg.config.migrate.table import Report
from volseg.config.schema import Config


def _volseg_keys(cls: type = Config, prefix: str = "") -> list[str]:
    out = []
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        default = f.default_factory() if callable(f.default_factory) else f.default
        if dataclasses.is_dataclass(default):
            out.extend(_volseg_keys(type(default), f"{key}."))
        else:
            out.append(key)
    return out


VOLSEG_KEYS = _volseg_keys()


def closest_key(key: str) -> str:
    """The volseg key most like a PyTC key (by its last parts), or empty."""
    tail = ".".join(key.split(".")[-2:])
    hits = difflib.get_close_matches(key, VOLSEG_KEYS, n=1, cutoff=0.6)
    if not hits:
        tails = {".".join(k.split(".")[-2:]): k for k in VOLSEG_KEYS}
        near = difflib.get_close_matches(tail, list(tails), n=1, cutoff=0.6)
        hits = [tails[near[0]]] if near else []
    return hits[0] if hits else ""


def apply_key(key: str, value: Any, rep: Report, *, shown: str | None = None) -> None:
    """Migrate one PyTC key (rows name it ``shown`` when given)."""
    if shown is not None and shown != key:
        rep.origin[key] = shown
    rule = find(key)
    if rule is None:
        near = closest_key(key)
        rep.log(key, "untranslated", near, "not a PyTC key volseg knows" + (
            "; the closest volseg key is named" if near else ""))  # fmt: skip
        return
    rule.apply(key, value, rep)


def translate(flat: dict[str, Any], origin: dict[str, str]) -> Report:
    """Every key of ``flat`` through the rule table."""
    rep = Report(flat, dict(origin))
    for key, value in flat.items():
        apply_key(key, value, rep)
    return rep
