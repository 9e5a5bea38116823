"""Check a plain YAML value against a schema type and its rules; return it converted.

OmegaConf's own validation stops at the first type problem with a message written for
programmers, and it accepts ints where we want booleans; this walker gives one sentence per
problem, naming the dotted key, what it must be and what it got.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any

from volseg.config.suggest import dataclass_paths, suggest_key, suggest_value
from volseg.errors import VolsegError

_NAMES = {int: ("an int", "ints"), float: ("a number", "numbers"), str: ("a string", "strings")}
_NAMES[bool] = ("true or false", "booleans")


def is_optional(hint: Any) -> tuple[bool, Any]:
    """(True, inner) for ``X | None``, else (False, hint)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != len(typing.get_args(hint)):
            inner = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
            return True, inner
    return False, hint


def describe(hint: Any, rules: Mapping[str, Any] | None = None, *, plural: bool = False) -> str:
    """Human words for a type: ``a list of 3 ints``, ``null or a number``..."""
    rules = rules or {}
    optional, inner = is_optional(hint)
    if optional:
        word = describe(inner, rules, plural=plural)
        return f"nulls or {word}" if plural else f"null or {word}"
    if inner in _NAMES:
        return _NAMES[inner][1 if plural else 0]
    if typing.get_origin(inner) is list:
        (elem,) = typing.get_args(inner)
        size = f"{rules['length']} " if "length" in rules else ""
        return f"{'lists' if plural else 'a list'} of {size}{describe(elem, plural=True)}"
    if typing.get_origin(inner) in (typing.Union, types.UnionType):
        return " or ".join(describe(a, rules, plural=plural) for a in typing.get_args(inner))
    if typing.get_origin(inner) is dict or dataclasses.is_dataclass(inner):
        return "mappings" if plural else "a mapping"
    return "values" if plural else "a value"


def _range_words(rules: Mapping[str, Any]) -> str | None:
    lo, hi = rules.get("lo"), rules.get("hi")
    lo_open, hi_open = rules.get("lo_open", False), rules.get("hi_open", False)
    if lo is None and hi is None:
        return None
    fmt = "{:g}".format
    if lo is not None and hi is not None:
        if not lo_open and not hi_open:
            return f"between {fmt(lo)} and {fmt(hi)}"
        return f"in {'(' if lo_open else '['}{fmt(lo)}, {fmt(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {fmt(lo)}"
    return f"{'<' if hi_open else '<='} {fmt(hi)}"


def _check_scalar(value: Any, rules: Mapping[str, Any], path: str, where: str) -> None:
    choices = rules.get("choices")
    if choices is not None and value not in choices:
        listed = ", ".join(str(c) for c in choices)
        hint = suggest_value(value, choices)
        raise VolsegError(f"{where}: `{path}` must be one of {listed}, got {value!r}{hint}")
    words = _range_words(rules)
    if words is None or not isinstance(value, int | float) or isinstance(value, bool):
        return
    lo, hi = rules.get("lo"), rules.get("hi")
    bad = (lo is not None and (value <= lo if rules.get("lo_open") else value < lo)) or (
        hi is not None and (value >= hi if rules.get("hi_open") else value > hi)
    )
    if bad:
        raise VolsegError(f"{where}: `{path}` must be {words}, got {value!r}.")


def convert(value: Any, hint: Any, rules: Mapping[str, Any], path: str, where: str) -> Any:
    """Check ``value`` against ``hint`` and ``rules``; return it converted (ints to floats...).

    Args:
        value: a plain value as read from YAML.
        hint: the schema type (``int``, ``list[float]``, ``int | None``, a dataclass, ``Any``).
        rules: the field's checks (see :func:`volseg.config.fields.spec`).
        path: the dotted key, for messages.
        where: the source (file name or override), for messages.

    Raises:
        VolsegError: one sentence naming ``where``, ``path``, what was expected and what came.
    """
    optional, inner = is_optional(hint)
    if value is None:
        if optional or inner is Any:
            return None
        raise VolsegError(f"{where}: `{path}` must be {describe(hint, rules)}, got null.")
    if dataclasses.is_dataclass(inner):
        return check_section(value, inner, path, where)
    bad = f"{where}: `{path}` must be {describe(hint, rules)}, got {value!r}."
    if inner is Any:
        return value
    if inner is bool:
        if not isinstance(value, bool):
            raise VolsegError(bad)
    elif inner is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise VolsegError(bad)
    elif inner is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise VolsegError(bad)
        value = float(value)
    elif inner is str:
        choices = rules.get("choices") or ()
        if isinstance(value, int) and not isinstance(value, bool) and str(value) in choices:
            value = str(value)  # `precision: 32` means the choice "32"
        if not isinstance(value, str):
            if choices:
                _check_scalar(value, rules, path, where)  # "must be one of ..."
            raise VolsegError(bad)
    elif typing.get_origin(inner) is list:
        return _convert_list(value, inner, rules, path, where, bad)
    elif typing.get_origin(inner) is dict:
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise VolsegError(bad)
        return dict(value)
    elif typing.get_origin(inner) in (typing.Union, types.UnionType):
        return _convert_union(value, inner, rules, path, where, bad)
    _check_scalar(value, rules, path, where)
    return value


def _convert_list(value: Any, hint: Any, rules: Mapping, path: str, where: str, bad: str) -> list:
    if not isinstance(value, list | tuple):
        raise VolsegError(bad)
    if "length" in rules and len(value) != rules["length"]:
        raise VolsegError(bad)
    if len(value) < rules.get("min_length", 0):
        n = rules["min_length"]
        raise VolsegError(
            f"{where}: `{path}` must have at least {n} entr{'y' if n == 1 else 'ies'}, "
            f"got {list(value)!r}."
        )
    (elem,) = typing.get_args(hint)
    elem_rules = {k: v for k, v in rules.items() if k not in ("length", "min_length")}
    out = [convert(v, elem, elem_rules, f"{path}[{i}]", where) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(elem):  # a list replaces its default whole: fill each entry
        out = [{**dataclasses.asdict(elem()), **v} for v in out]
    return out


def _convert_union(value: Any, hint: Any, rules: Mapping, path: str, where: str, bad: str) -> Any:
    for option in typing.get_args(hint):
        try:
            return convert(value, option, rules, path, where)
        except VolsegError:
            continue
    raise VolsegError(bad)


def check_section(value: Any, cls: type, path: str, where: str) -> dict[str, Any]:
    """Check a mapping against a schema dataclass; unknown keys are errors with a hint.

    Only the keys present are checked and returned (files may be partial; defaults come later).
    """
    if not isinstance(value, Mapping):
        what = f"`{path}`" if path else "the top level"
        raise VolsegError(f"{where}: {what} must be a mapping of keys, got {value!r}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = type_hints(cls)
    out: dict[str, Any] = {}
    for key, item in value.items():
        full = f"{path}.{key}" if path else str(key)
        if key not in fields:
            section = full.split(".")[0]
            root = _root_section(path)
            paths = [f"{section}.{p}" for p in dataclass_paths(root)] if root else []
            raise VolsegError(f"{where}: unknown key `{full}`{suggest_key(full, fields, paths)}")
        f = fields[key]
        item = _normalise_paths(item, f.metadata)
        out[key] = convert(item, hints[key], f.metadata, full, where)
    return out


@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints`` of a schema class, cached (they are looked up often)."""
    return typing.get_type_hints(cls)


_SECTION_ROOTS: dict[str, type] = {}


def register_sections(sections: Mapping[str, type]) -> None:
    """Tell the checker which dataclass is each top-level section (for did-you-mean)."""
    _SECTION_ROOTS.update(sections)


def _root_section(path: str) -> type | None:
    if not path:
        return None
    return _SECTION_ROOTS.get(path.split(".")[0].split("[")[0])


def _normalise_paths(value: Any, rules: Mapping[str, Any]) -> Any:
    """A path-list field accepts one string (a one-element list) or null (no paths)."""
    if rules.get("path") == "many":
        if value is None:
            return []
        if isinstance(value, str):
            return [value]
    return value
