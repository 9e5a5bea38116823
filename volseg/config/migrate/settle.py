"""Last resort: a value volseg still refuses after the rules is left out, with a row.

The rules and :mod:`.reconcile` cover what PyTC's schema allows; PyTC files may still hold
values outside volseg's ranges (``num_workers: -1`` for "automatic", a normalisation volseg
lacks). :func:`settle` checks the tree as ``volseg config check`` does, removes the key the
error names (volseg's default then applies) and logs it as untranslated, until the tree passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from volseg.config.migrate.table import Report
from volseg.errors import VolsegError

_KEY = re.compile(r"`([A-Za-z0-9_.\[\]]+)`")
_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")


def _tokens(key: str) -> list[str | int]:
    return [int(t[1:-1]) if t.startswith("[") else t for t in _TOKEN.findall(key)]


def pop_path(tree: dict[str, Any], key: str) -> str | None:
    """Remove the deepest mapping entry on ``key``'s path; the dotted key removed, or None."""
    tokens = _tokens(key)
    while tokens:
        *parents, last = tokens
        node: Any = tree
        for t in parents:
            ok = (isinstance(t, int) and isinstance(node, list) and t < len(node)) or (
                isinstance(t, str) and isinstance(node, dict) and t in node
            )
            if not ok:
                node = None
                break
            node = node[t]
        if isinstance(last, str) and isinstance(node, dict) and last in node:
            del node[last]
            return "".join(f"[{t}]" if isinstance(t, int) else f".{t}" for t in tokens)[1:]
        tokens = parents
    return None


def settle(rep: Report, check: Callable[[dict[str, Any]], None], limit: int = 30) -> None:
    """Remove refused values from ``rep.out`` until ``check`` passes (or ``limit`` tries).

    Args:
        rep: the migration so far.
        check: raises :class:`VolsegError` naming the key at fault, as config check does.
        limit: at most this many keys are removed before the last error is raised.
    """
    for _ in range(limit):
        try:
            check(rep.out)
            return
        except VolsegError as exc:
            message = str(exc)
            keys = [k for k in _KEY.findall(message) if "." in k or k in rep.out]
            removed = next((r for k in keys if (r := pop_path(rep.out, k))), None)
            if removed is None:
                raise
            why = message.split(": ", 1)[-1].rstrip(".")
            rep.log(removed, "untranslated", removed, f"volseg refuses it ({why}); volseg's "
                    "default is used")  # fmt: skip
    check(rep.out)
