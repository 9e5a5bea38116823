"""Rule kinds: what to do with one PyTorch Connectomics key (the table is :mod:`.rules`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from volseg.config.migrate.table import Report

NO_FEATURE = "no such feature in volseg"
SAME = "same effect by default"


@dataclass(frozen=True)
class Rule:
    """What to do with one PyTC key.

    ``action``: ``renamed`` (to ``to``; the same name is a plain copy, not reported),
    ``converted`` (``fn`` turns the value; ``to`` receives it), ``dropped``, ``untranslated``
    (``to`` is the closest volseg option, not set) or ``custom`` (``fn(key, value, report)``
    does it all and logs its own rows).
    """

    action: str
    to: str = ""
    note: str = ""
    fn: Callable[..., Any] | None = None

    def apply(self, key: str, value: Any, rep: Report) -> None:
        """Apply the rule to ``key: value``, writing into ``rep``."""
        if self.action == "custom":
            assert self.fn is not None
            self.fn(key, value, rep)
        elif self.action == "renamed":
            to = self.to or key
            rep.set(to, value)
            if to != key:
                rep.log(key, "renamed", to, self.note)
        elif self.action == "converted":
            assert self.fn is not None
            new = self.fn(value)
            rep.set(self.to or key, new)
            if new != value:
                rep.log(key, "converted", self.to or key, f"{value!r} -> {new!r}; {self.note}")
            elif self.to and self.to != key:
                rep.log(key, "renamed", self.to)
        else:
            rep.log(key, self.action, self.to, self.note)


def keep() -> Rule:
    """Same key, same value."""
    return Rule("renamed")


def to(key: str, note: str = "") -> Rule:
    """Renamed to ``key``."""
    return Rule("renamed", key, note)


def conv(key: str, fn: Callable[[Any], Any], note: str) -> Rule:
    """Converted by ``fn`` into ``key``."""
    return Rule("converted", key, note, fn)


def drop(why: str, what: str) -> Rule:
    """Dropped; ``why`` is :data:`NO_FEATURE` or :data:`SAME`."""
    return Rule("dropped", "", f"{why}: {what}")


def closest(key: str, note: str) -> Rule:
    """Untranslated; ``key`` is the closest volseg option."""
    return Rule("untranslated", key, note)


def custom(fn: Callable[[str, Any, Report], None]) -> Rule:
    """A converter that logs its own rows."""
    return Rule("custom", fn=fn)
