"""``volseg evaluate``: score instance labels against ground truth (ARE, VOI, matching)."""

from __future__ import annotations

import json
from contextlib import ExitStack
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


def _open(path: str, role: str, *, labels: bool):
    from volseg.io import open_volume

    volume = open_volume(path)
    kind = volume.dtype.kind
    if labels and kind not in "uib":
        volume.close()
        raise VolsegError(
            f"{role} {path} holds {volume.dtype} values; volseg evaluate needs integer instance "
            "labels (decode predicted maps first with volseg decode)."
        )
    if not labels and kind not in "uib":
        volume.close()
        raise VolsegError(f"mask {path} holds {volume.dtype}; a mask must be boolean or integer.")
    return volume


def evaluate_paths(
    labels: str,
    gt: str,
    *,
    mask: str | None = None,
    min_size: int = 0,
    thresholds: tuple[float, ...] = (0.5, 0.75),
    seg_background: str = "label",
) -> dict[str, Any]:
    """Open the volumes, build one contingency table and compute every instance score."""
    from volseg.metrics import adapted_rand, contingency, match_instances, voi

    if min_size < 0:
        raise VolsegError(f"--min-size must be >= 0 voxels, got {min_size}.")
    with ExitStack() as stack:
        seg_v = stack.enter_context(_open(labels, "labels", labels=True))
        gt_v = stack.enter_context(_open(gt, "ground truth", labels=True))
        if seg_v.shape != gt_v.shape:
            raise VolsegError(
                f"labels {labels} has shape {seg_v.shape} but ground truth {gt} has shape "
                f"{gt_v.shape}; they must be equal."
            )
        mask_v = None
        if mask is not None:
            mask_v = stack.enter_context(_open(mask, "mask", labels=False))
            if mask_v.shape != gt_v.shape:
                raise VolsegError(
                    f"mask {mask} has shape {mask_v.shape} but ground truth {gt} has shape "
                    f"{gt_v.shape}; they must be equal."
                )
        table = contingency(seg_v, gt_v, mask=mask_v)
    are, precision, recall = adapted_rand(table=table, seg_background=seg_background)
    split, merge = voi(table=table, seg_background=seg_background)
    matching = match_instances(table=table, thresholds=thresholds, min_size=min_size)
    return {
        "labels": labels,
        "gt": gt,
        "mask": mask,
        "shape": list(gt_v.shape),
        "voxels_scored": int(table.drop(gt_labels=(0,)).n_voxels),
        "seg_background": seg_background,
        "adapted_rand": {"are": are, "precision": precision, "recall": recall},
        "voi": {"split": split, "merge": merge, "total": split + merge},
        "matching": {
            "min_size": min_size,
            "thresholds": {f"{t:g}": scores for t, scores in matching.items()},
        },
    }


def print_table(result: dict[str, Any]) -> None:
    """Print the scores as two rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ar, vi = result["adapted_rand"], result["voi"]
    scores = Table(title=f"{result['labels']} vs {result['gt']}", show_header=True)
    scores.add_column("score")
    scores.add_column("value", justify="right")
    for name, value in (
        ("adapted Rand error", ar["are"]),
        ("Rand precision (merges)", ar["precision"]),
        ("Rand recall (splits)", ar["recall"]),
        ("VOI split (bits)", vi["split"]),
        ("VOI merge (bits)", vi["merge"]),
        ("VOI total (bits)", vi["total"]),
    ):
        scores.add_row(name, f"{value:.4f}")
    console.print(scores)
    match = Table(title=f"instance matching (min size {result['matching']['min_size']} voxels)")
    columns = {
        "tp": "TP", "fp": "FP", "fn": "FN", "precision": "prec", "recall": "rec", "f1": "F1",
        "mean_matched_iou": "mIoU", "pq": "PQ", "ap_dsb": "AP-dsb", "ap": "AP (MitoEM)",
    }  # fmt: skip
    # one row per score, one column per IoU threshold: stays narrow however many scores
    per_thr = result["matching"]["thresholds"]
    match.add_column("IoU >=")
    for thr in per_thr:
        match.add_column(str(thr), justify="right")
    for key, header in columns.items():
        cells = (str(m[key]) if key in ("tp", "fp", "fn") else f"{m[key]:.4f}"
                 for m in per_thr.values())  # fmt: skip
        match.add_row(header, *cells)
    console.print(match)


def evaluate(
    labels: str = typer.Argument(..., help="Instance labels: file.h5:key, x.zarr/path, tif."),
    gt: str = typer.Argument(..., help="Ground-truth instance labels (same shape)."),
    mask: str | None = typer.Option(None, "--mask", help="Only voxels where the mask is non-zero."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    min_size: int = typer.Option(0, "--min-size", help="Leave out instances below N voxels."),
    iou: str = typer.Option("0.5,0.75", "--iou", help="IoU thresholds for matching."),
    seg_background: str = typer.Option(
        "label", "--seg-background", help="label | singletons (CREMI: seg 0 voxels unmerged)."
    ),
) -> None:
    """Score LABELS against GT: adapted Rand error, VOI and instance matching."""
    result = evaluate_paths(
        labels, gt, mask=mask, min_size=min_size, thresholds=parse_thresholds(iou),
        seg_background=seg_background,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=_json_default))
    else:
        print_table(result)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
