"""YAML reading: ``yaml.safe_load`` semantics, plus YAML 1.2 numbers and duplicate-key errors.

PyYAML follows YAML 1.1, where ``1e-5`` (no dot) is a *string*; PyTorch Connectomics configs
write ``smooth_nr: 1e-5``, so the loader also reads such scientific numbers as floats. YAML 1.1
also reads ``1:00:00:00`` as a base-60 number; here colon scalars stay strings, as in YAML 1.2.
A repeated key, which PyYAML silently resolves to the last value, is an error.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from volseg.errors import VolsegError


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) with YAML 1.2 numbers and no duplicate keys."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # YAML 1.1 reads 1:00:00:00 as the base-60 int 216000; YAML 1.2 has no base-60
        # numbers, so colon scalars stay strings (``optimization.max_time: 1:00:00:00`` = 1 day).
        tag = super().resolve(kind, value, implicit)
        if kind is yaml.ScalarNode and ":" in value and tag in _NUMBER_TAGS:
            return "tag:yaml.org,2002:str"
        return tag


_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


_StrictSafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _mapping(loader: _StrictSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue  # construct_mapping reports unhashable keys itself
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_yaml(text: str, *, source: str) -> Any:
    """Parse YAML text; a syntax error becomes one sentence with the line and column.

    Args:
        text: the YAML document.
        source: what to call it in messages (a file name, an override).
    """
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise VolsegError(f"{source}: YAML syntax error{where}: {problem}.") from None
    except yaml.YAMLError as exc:
        raise VolsegError(f"{source}: YAML syntax error: {exc}.") from None
