"""Names a package exports but imports on first use (PEP 562).

``volseg.infer`` and ``volseg.losses`` use it so that importing one of their submodules (a
decode worker unpickling its task, a config check reading loss arguments) does not import
torch through the package's ``__init__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, home: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name in ``home`` is imported from the
    module ``home[name]`` the first time it is asked for, then kept in the package."""

    def getattr_(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[name]), name)
        vars(sys.modules[package])[name] = value
        return value

    def dir_() -> list[str]:
        return sorted([*vars(sys.modules[package]), *home])

    return getattr_, dir_
