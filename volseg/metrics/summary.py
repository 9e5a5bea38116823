"""Rows of a scores report (:mod:`volseg.metrics.evaluate`) with names that say what they count.

The CLI prints these rows as tables and the demo writes them as Markdown, so a number carries
the same name everywhere.
"""

from __future__ import annotations

from typing import Any

MATCH_COLUMNS = {
    "tp": "TP", "fp": "FP", "fn": "FN", "precision": "precision", "recall": "recall",
    "f1": "F1", "mean_matched_iou": "mean matched IoU", "pq": "PQ", "ap_dsb": "AP-dsb",
    "ap": "AP (MitoEM)",
}  # fmt: skip


def score_rows(result: dict[str, Any]) -> list[tuple[str, float | int]]:
    """``(name, value)`` rows: instance counts, the segmentation's foreground, Rand, VOI."""
    inst, fg = result["instances"], result["segmentation_foreground"]
    rows: list[tuple[str, float | int]] = [
        ("instances segmented (non-zero ids)", inst["segmentation"]),
        ("instances in ground truth", inst["ground_truth"]),
        ("segmentation foreground IoU (labels > 0, hard)", fg["iou"]),
        ("segmentation foreground Dice (labels > 0, hard)", fg["dice"]),
    ]
    for key, label in (("adapted_rand_ignore_bg", "gt background ignored"),
                       ("adapted_rand_with_bg", "background counted")):  # fmt: skip
        if key in result:
            r = result[key]
            rows += [(f"adapted Rand error ({label})", r["are"]),
                     (f"Rand precision, merges ({label})", r["precision"]),
                     (f"Rand recall, splits ({label})", r["recall"])]  # fmt: skip
    if "voi" in result:
        v = result["voi"]
        rows += [("VOI split (bits, gt background ignored)", v["split"]),
                 ("VOI merge (bits, gt background ignored)", v["merge"])]  # fmt: skip
    return rows


def matching_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header (IoU thresholds) and one row per matching score; empty without matching."""
    if "matching" not in result:
        return [], []
    per_thr = result["matching"]["thresholds"]
    header = ["IoU >=", *per_thr]
    rows = []
    for key, name in MATCH_COLUMNS.items():
        cells = [str(m[key]) if key in ("tp", "fp", "fn") else f"{m[key]:.4f}"
                 for m in per_thr.values()]  # fmt: skip
        rows.append([name, *cells])
    return header, rows


def map_rows(result: dict[str, Any]) -> list[list[str]]:
    """The foreground map's per-threshold hard Dice/IoU rows, then its soft Dice."""
    table = result.get("map_foreground")
    if not table:
        return []
    rows = [[f"{r['threshold']:g}", f"{r['dice_hard']:.4f}", f"{r['iou_hard']:.4f}"]
            for r in table["per_threshold"]]  # fmt: skip
    rows.append(["soft Dice (no threshold)", f"{table['soft_dice']:.4f}", ""])
    return rows


def _fmt(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def markdown(result: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    lines = ["| score | value |", "|---|---|"]
    lines += [f"| {name} | {_fmt(v)} |" for name, v in score_rows(result)]
    header, rows = matching_rows(result)
    if header:
        min_size = result["matching"]["min_size"]
        lines += ["", f"Instance matching (instances >= {min_size} voxels on both sides):", ""]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    maps = map_rows(result)
    if maps:
        intro = "The prediction map's foreground (map > threshold, hard; soft Dice: no threshold):"
        lines += ["", intro, "", "| map threshold | map Dice | map IoU |", "|---|---|---|"]
        lines += ["| " + " | ".join(r) + " |" for r in maps]
    return "\n".join(lines) + "\n"
