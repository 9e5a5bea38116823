"""``volseg evaluate``: score instance labels against ground truth (thin: parse, call, print)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import typer

from volseg.errors import VolsegError


def parse_thresholds(text: str) -> tuple[float, ...]:
    """'0.5,0.75' -> (0.5, 0.75); every value must be in (0, 1]."""
    try:
        values = tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise VolsegError(f"--iou takes numbers like '0.5,0.75', got {text!r}.") from None
    if not values or any(not 0.0 < v <= 1.0 for v in values):
        raise VolsegError(f"--iou values must be in (0, 1], got {text!r}.")
    return values


def evaluate(
    labels: str = typer.Argument(..., help="Instance labels: file.h5:key, x.zarr/path, tif."),
    gt: str = typer.Argument(..., help="Ground-truth instance labels (same shape)."),
    mask: str | None = typer.Option(None, "--mask", help="Only voxels where the mask is non-zero."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    min_size: int = typer.Option(0, "--min-size", help="Leave out instances below N voxels."),
    iou: str = typer.Option("0.5,0.75", "--iou", help="IoU thresholds for matching."),
    metrics: str = typer.Option(
        "adapted_rand,voi,match_instances,semantic",
        "--metrics",
        help="Score groups: adapted_rand, voi, match_instances, semantic.",
    ),  # fmt: skip
    seg_background: str = typer.Option(
        "label", "--seg-background", help="label | singletons (CREMI: seg 0 voxels unmerged)."
    ),
) -> None:
    """Score LABELS against GT: foreground, adapted Rand (both conventions), VOI, matching, AP."""
    from volseg.cli.scores_print import print_scores
    from volseg.metrics.evaluate import evaluate_paths

    groups = tuple(m.strip() for m in metrics.split(",") if m.strip())
    result = evaluate_paths(
        labels, gt, mask=mask, metrics=groups, min_size=min_size,
        thresholds=parse_thresholds(iou), seg_background=seg_background,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=_json_default))
    else:
        print_scores(result)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
