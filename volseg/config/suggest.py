"""Suggestions ("did you mean ...?") for misspelt keys and values."""

from __future__ import annotations

import dataclasses
import difflib
import typing
from collections.abc import Iterable, Iterator
from typing import Any


def close_match(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word`` (difflib ratio >= ``cutoff``), or None."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def dataclass_paths(cls: type, prefix: str = "") -> Iterator[str]:
    """Every dotted key path of a schema dataclass, nested sections included."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        yield path
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            yield from dataclass_paths(hint, prefix=f"{path}.")


def suggest_key(bad_path: str, siblings: Iterable[str], section_paths: Iterable[str]) -> str:
    """The hint that ends an "unknown key" sentence.

    First look for a close sibling (same parent); then for a key of the same name placed
    elsewhere in the section (a misplaced key); otherwise list the keys that are valid here.

    Args:
        bad_path: dotted path of the unknown key (``optimization.optimizer.lrr``).
        siblings: the valid key names at that level.
        section_paths: every valid dotted path of the top-level section.
    """
    parent, _, leaf = bad_path.rpartition(".")
    prefix = f"{parent}." if parent else ""
    siblings = sorted(siblings)
    match = close_match(leaf, siblings)
    if match is not None:
        return f"; did you mean `{prefix}{match}`?"
    by_leaf = {p.rpartition(".")[2]: p for p in section_paths if p.count(".") >= 1}
    match = close_match(leaf, by_leaf, cutoff=0.8)
    if match is not None:
        return f"; did you mean `{by_leaf[match]}`?"
    return f"; valid keys here: {', '.join(siblings)}." if siblings else "."


def suggest_value(value: Any, choices: Iterable[Any]) -> str:
    """``"; did you mean 'x'?"`` for a string close to one of ``choices``, else ``"."``."""
    if not isinstance(value, str):
        return "."
    names = {str(c).lower(): c for c in choices}
    match = close_match(value.lower(), names)
    return f"; did you mean {names[match]!r}?" if match is not None else "."
