"""The comparison table: one row per run, as Markdown and CSV.

Columns: run name, architecture, parameters (of the network built from the run's ``model``
section; learnable loss weights not counted), median seconds per training epoch (the
``train/epoch_seconds`` the run logged: optimizer steps only, validation not included), steps
trained, then for the compared metric its best value, the epoch of the best and its final
value, and the best and final value of every other ``val/*`` score any run logged
(blank where a run did not log it). Best means smallest or largest as
:data:`volseg.train.names.DIRECTION` says.
"""

from __future__ import annotations

import csv
import io
import statistics
from typing import Any

from volseg.compare.runs import Run
from volseg.train.names import DIRECTION

EPOCH_SECONDS = "train/epoch_seconds"


def parameter_count(model_cfg: dict[str, Any]) -> int:
    """Parameters of the network a ``model`` config section builds."""
    from volseg.models import build

    return sum(p.numel() for p in build(model_cfg).parameters())


def best_and_final(run: Run, name: str) -> tuple[float, float, float] | None:
    """``(best, epoch of the best, final)`` of ``name`` per epoch; None when never logged."""
    pts = run.values(name)
    if not pts:
        return None
    pick = min if DIRECTION.get(name, "max") == "min" else max
    epoch, best = pick(pts, key=lambda p: p[1])
    # the first epoch reaching the best value: ties go to the earlier epoch
    epoch = next(e for e, v in pts if v == best)
    return best, epoch, pts[-1][1]


def val_names(runs: list[Run], metric: str) -> list[str]:
    """The ``val/*`` scores any run logged (no per-term losses or counts), ``metric`` first."""
    names = {k for r in runs for row in r.rows for k in row if k.startswith("val/")}
    others = sorted(n for n in names if n in DIRECTION and n != metric)
    return [metric, *others]


def rows(runs: list[Run], metric: str) -> tuple[list[str], list[list[Any]]]:
    """Column names and one row of values per run."""
    names = val_names(runs, metric)
    header = ["run", "architecture", "parameters", "s/epoch", "steps"]
    header += [f"best {metric}", "best epoch", f"final {metric}"]
    for n in names[1:]:
        header += [f"best {n}", f"final {n}"]
    table = []
    for run in runs:
        seconds = [r[EPOCH_SECONDS] for r in run.rows if EPOCH_SECONDS in r]
        model = run.config.get("model") or {}
        row: list[Any] = [
            run.name,
            model.get("architecture", ""),
            parameter_count(model),
            statistics.median(seconds) if seconds else None,
            run.steps,
        ]
        main = best_and_final(run, metric)
        row += [main[0], int(main[1]), main[2]] if main else [None, None, None]
        for n in names[1:]:
            got = best_and_final(run, n)
            row += [got[0], got[2]] if got else [None, None]
        table.append(row)
    return header, table


def _cell(value: Any, *, precise: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value)) if not precise else repr(value)
        return repr(value) if precise else f"{value:.4g}"
    return str(value)


def to_csv(header: list[str], table: list[list[Any]]) -> str:
    """The table as CSV text (full precision)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v, precise=True) for v in row] for row in table)
    return buf.getvalue()


def to_markdown(header: list[str], table: list[list[Any]]) -> str:
    """The table as a Markdown table (4 significant digits)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table:
        cells = [_cell(v, precise=False).replace("|", "\\|") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
