"""A run-time fix for bioimageio.spec under pydantic >= 2.14.

bioimageio.spec (0.5.12 to at least 0.5.14.3) calls pydantic's serializer handler as
``handler(value, info)`` in three wrap serializers. The handler's second parameter is an
``index_key`` (an int or a str); pydantic-core ignored a wrong one until pydantic 2.14, which
raises ``TypeError: 'index_key' is expected to be an integer or a string``. Every model
description with weights is serialised while it is validated, so without this fix no model
package can be built, loaded or tested.

:func:`patch_bioimageio` applies the fix only where pydantic refuses (a probe model shows it).
The schemas bioimageio.spec compiled hold the three functions themselves, so each function's
code is swapped for a trampoline that calls a copy of the original with a handler which drops
an ``index_key`` that is neither int nor str. Nothing else changes; the fix is idempotent, and
does nothing once bioimageio.spec calls the handler correctly (ints and strs pass through).
"""

from __future__ import annotations

import importlib
import types
from typing import Any

#: ``(module, attribute path)`` of the serializers that pass ``info`` as the index key.
TARGETS = (
    ("bioimageio.spec._internal.io_packaging", "package_file_descr_serializer"),
    ("bioimageio.spec.model.v0_4", "package_weights"),
    ("bioimageio.spec._internal.validated_string_with_inner_node",
     "ValidatedStringWithInnerNode._serialize"),
)  # fmt: skip
_MARK = "_volseg_patched"


class IndexKeyGuard:
    """pydantic's wrap handler, forwarding only a valid ``index_key``."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler

    def __call__(self, value: Any, index_key: Any = None) -> Any:
        if isinstance(index_key, int | str):
            return self.handler(value, index_key)
        return self.handler(value)


def _trampoline(first: Any, handler: Any, info: Any) -> Any:
    # runs with the patched function's module globals (one target per module), where
    # patch_bioimageio put both names
    return _volseg_unpatched(first, _volseg_guard(handler), info)  # type: ignore[name-defined]  # noqa: F821


def pydantic_refuses_info() -> bool:
    """True when pydantic rejects ``handler(value, info)`` in a wrap serializer."""
    from pydantic import BaseModel, model_serializer

    class Probe(BaseModel):
        x: int = 0

        @model_serializer(mode="wrap")
        def _dump(self, handler: Any, info: Any) -> Any:
            return handler(self, info)

    try:
        Probe().model_dump()
    except Exception:
        return True
    return False


def _function(module_name: str, path: str) -> types.FunctionType | None:
    """The function at ``module_name:path``; None where this bioimageio.spec has none."""
    try:
        obj: Any = importlib.import_module(module_name)
        for part in path.split("."):
            obj = vars(obj)[part] if isinstance(obj, type) else getattr(obj, part)
    except (ImportError, AttributeError, KeyError):
        return None
    func = getattr(obj, "wrapped", obj)  # a pydantic decorator proxy holds the function
    if not isinstance(func, types.FunctionType) or func.__code__.co_argcount != 3:
        return None  # not the (value, handler, info) serializer this fix is for
    return func


def patch_bioimageio() -> bool:
    """Apply the fix when it is needed; returns whether bioimageio.spec is patched."""
    if not pydantic_refuses_info():
        return False
    for module_name, path in TARGETS:
        func = _function(module_name, path)
        if func is None or getattr(func, _MARK, False):
            continue
        original = types.FunctionType(
            func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__
        )
        func.__globals__["_volseg_unpatched"] = original
        func.__globals__["_volseg_guard"] = IndexKeyGuard
        func.__code__ = _trampoline.__code__
        setattr(func, _MARK, True)
    return True
