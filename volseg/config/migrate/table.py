"""The migrate report: one row per PyTorch Connectomics key that did not carry over as it was."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

#: Row actions, in the order the table and the counts list them.
ACTIONS = ("renamed", "converted", "dropped", "untranslated")


@dataclass(frozen=True)
class Row:
    """One key of the PyTC file and what became of it.

    Attributes:
        key: the PyTC key, dotted (``model.loss_kwargs[0].sigmoid``).
        action: one of :data:`ACTIONS`.
        target: the volseg key it went to, or the closest volseg option when untranslated
            (empty when there is none).
        note: why (for drops: "no such feature in volseg: ..." or "same effect by default: ...").
    """

    key: str
    action: str
    target: str = ""
    note: str = ""


def counts(rows: list[Row]) -> dict[str, int]:
    """Number of rows per action, every action present."""
    c = Counter(r.action for r in rows)
    return {a: c.get(a, 0) for a in ACTIONS}


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table, grouped by action, then a one-line summary."""
    ordered = sorted(rows, key=lambda r: ACTIONS.index(r.action))
    head = ("action", "PyTC key", "volseg key / closest", "why")
    cells = [head] + [(r.action, r.key, r.target or "-", r.note) for r in ordered]
    width = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = ["  ".join(c[i].ljust(width[i]) for i in range(3)) + "  " + c[3] for c in cells]
    lines.insert(1, "  ".join("-" * w for w in width) + "  " + "-" * 3)
    summary = ", ".join(f"{n} {a}" for a, n in counts(rows).items())
    return "\n".join(line.rstrip() for line in lines) + f"\n{summary}\n"


class Report:
    """What a migration writes: the volseg tree being built and the rows explaining it.

    Attributes:
        flat: the PyTC keys and values being migrated (read only).
        origin: a key's name in the PyTC file where reading renamed it (2026 stages).
        out: the volseg config tree built so far.
        rows: the table rows so far.
    """

    def __init__(self, flat: dict, origin: dict[str, str] | None = None) -> None:
        self.flat = flat
        self.origin = origin or {}
        self.out: dict = {}
        self.rows: list[Row] = []

    def log(self, key: str, action: str, target: str = "", note: str = "") -> None:
        """Add a row (``key`` is given in the flat 2025 shape; its file name is shown)."""
        base, dot, rest = key.partition("[")
        shown = self.origin.get(base, base) + (dot + rest if dot else "")
        self.rows.append(Row(shown, action, target, note))

    def set(self, dotted: str, value: object) -> None:
        """Set a volseg key (dotted) in :attr:`out`."""
        node = self.out
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    def get(self, dotted: str, default: object = None) -> object:
        """A volseg key of :attr:`out`, or ``default``."""
        node: object = self.out
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def pop(self, dotted: str) -> object:
        """Remove a volseg key from :attr:`out`; return its value (None if absent)."""
        *parents, last = dotted.split(".")
        node = self.get(".".join(parents)) if parents else self.out
        return node.pop(last, None) if isinstance(node, dict) else None
