"""Field declarations for the config schemas: defaults plus the rules a value must keep.

A schema field is an ordinary dataclass field whose ``metadata`` carries the checks that the
type alone cannot express (allowed choices, numeric range, list length, path-ness). The same
rules describe free-form keyword tables (decoder, loss and target kwargs) through :class:`Param`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_NO_DEFAULT = dataclasses.MISSING


def spec(
    default: Any = _NO_DEFAULT,
    *,
    factory: Any = None,
    choices: tuple[Any, ...] | None = None,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    length: int | None = None,
    min_length: int | None = None,
    path: str | None = None,
) -> Any:
    """Declare a schema field with its default and its checks.

    Args:
        default: the default value (immutable values only; use ``factory`` for lists).
        factory: zero-argument callable giving a fresh mutable default.
        choices: allowed values (for lists: allowed elements).
        lo: lower bound (for lists: of every element); ``lo_open`` makes it strict.
        hi: upper bound (for lists: of every element); ``hi_open`` makes it strict.
        length: exact list length.
        min_length: minimum list length.
        path: ``"one"`` for a single path, ``"many"`` for a path list; relative paths are
            resolved against the config file's folder, and ``"many"`` accepts a single string.
    """
    meta = {
        "choices": choices,
        "lo": lo,
        "hi": hi,
        "lo_open": lo_open,
        "hi_open": hi_open,
        "length": length,
        "min_length": min_length,
        "path": path,
    }
    meta = {k: v for k, v in meta.items() if v is not None and v is not False}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class Param:
    """Type and rules of one entry in a keyword table (e.g. a decoder's kwargs).

    Attributes:
        hint: the Python type the value must have (``float``, ``list[int]``, ``int | None``...).
        rules: the same checks :func:`spec` takes (choices, lo, hi, length, ...).
    """

    hint: Any
    rules: dict[str, Any] = dataclasses.field(default_factory=dict)


def param(hint: Any, **rules: Any) -> Param:
    """Shorthand for :class:`Param` with keyword rules."""
    return Param(hint, {k: v for k, v in rules.items() if v is not None and v is not False})


PROB = {"lo": 0.0, "hi": 1.0}
POSITIVE = {"lo": 0.0, "lo_open": True}
NON_NEGATIVE = {"lo": 0.0}
CONNECTIVITY = (6, 18, 26)
