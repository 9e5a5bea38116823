"""Print a scores report (:mod:`volseg.metrics.evaluate`) and sweep results as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from volseg.metrics.summary import map_rows, matching_rows, score_rows


def print_scores(result: dict[str, Any], console: Console | None = None) -> None:
    """The named scores, the matching table and (if present) the map's threshold table."""
    console = console or Console()
    title = f"{result['labels']} vs {result['gt']}" if "labels" in result else "scores"
    scores = Table(title=title)
    scores.add_column("score")
    scores.add_column("value", justify="right")
    for name, value in score_rows(result):
        scores.add_row(name, str(value) if isinstance(value, int) else f"{value:.4f}")
    console.print(scores)
    header, rows = matching_rows(result)
    if header:
        size = result["matching"]["min_size"]
        match = Table(title=f"instance matching (instances >= {size} voxels on both sides)")
        for i, col in enumerate(header):
            match.add_column(col, justify="left" if i == 0 else "right")
        for row in rows:
            match.add_row(*row)
        console.print(match)
    maps = map_rows(result)
    if maps:
        table = Table(title="prediction map foreground (hard at each threshold; soft Dice)")
        for col in ("map threshold", "map Dice", "map IoU"):
            table.add_column(col, justify="right")
        for row in maps:
            table.add_row(*row)
        console.print(table)


def print_sweep(files: Any, console: Console | None = None) -> None:
    """Work done, the five best settings by the objective, skipped settings and the files."""
    from volseg.metrics.objectives import OBJECTIVES, rank_key

    console = console or Console(soft_wrap=True)
    result = files.result
    w = result.work
    console.print(
        f"swept {w['settings']} {result.decoder} settings in {result.seconds:.1f} s "
        f"({w['skipped']} skipped as out of range, {w['scored']} scored)"
    )
    table = Table(title=f"best settings by {result.metric} ({OBJECTIVES[result.metric].meaning})")
    cols = ["are_ignore_bg", "voi_split", "voi_merge", "are_with_bg", "f1@0.5", "ap@0.75",
            "fg_iou", "n_instances"]  # fmt: skip
    for col in [*result.names, *cols]:
        table.add_column(col, justify="right")
    for row in sorted(result.scored, key=lambda r: rank_key(r, result.metric))[:5]:
        cells = [str(row[c]) if c == "n_instances" else f"{row[c]:.4f}" for c in cols]
        table.add_row(*[str(row[n]) for n in result.names], *cells)
    console.print(table)
    for row in [r for r in result.rows if r.get("skipped")][:3]:
        console.print(f"skipped: {row['skipped']}")
    console.print(f"sweep.csv: {files.csv}\nheat-map: {files.heatmap}")
    console.print(f"thresholds: {files.thresholds}")
