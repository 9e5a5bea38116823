"""What self-training writes besides the runs: the 4-panel figure and the summary table/plot."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from volseg.train.figures import label_colours, new_figure, save_figure

COLUMNS = ("stage", "steps", "t_hi", "t_lo", "pseudo_fg", "pseudo_ignored", "fg_iou", "f1@0.5",
           "are_with_bg")  # fmt: skip


def _labels_rgb(labels: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Instances in their fixed colours on black; ignored voxels grey."""
    rgb = label_colours(labels)
    if mask is not None:
        rgb[~mask] = 0.5
    return rgb


def save_panels(
    path: Path,
    view: dict[str, Any],
    pseudo: tuple[np.ndarray, np.ndarray] | None,
    title: str,
) -> Path:
    """Input / ground truth / pseudo-label / prediction at the middle z-slice of a validation
    region (the pseudo-label is this iteration's rule applied to the previous model's maps of
    the same region, ignored voxels grey; none for the supervised run)."""
    z = view["image"].shape[0] // 2
    fig = new_figure(13, 3.6)
    panels = [("input", view["image"][z], "gray"), ("ground truth", _labels_rgb(view["gt"][z]),
              None)]  # fmt: skip
    if pseudo is None:
        panels.append(("pseudo-label (none: supervised)", np.zeros(view["gt"][z].shape), "gray"))
    else:
        panels.append(("pseudo-label (grey: ignored)", _labels_rgb(pseudo[0][z], pseudo[1][z]),
                       None))  # fmt: skip
    panels.append(("prediction", _labels_rgb(view["seg"][z]), None))
    for k, (name, img, cmap) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, 4, k)
        ax.imshow(img, cmap=cmap, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def _text(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    return "" if value is None else str(value)


def to_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_text(r.get(c)) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def to_csv(rows: list[dict[str, Any]]) -> str:
    lines = [",".join(COLUMNS)] + [",".join(_text(r.get(c)) for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


def save_plot(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Scores of the supervised run and each iteration against cumulative steps, the baseline
    (supervised only, same total steps) as a dashed line."""
    fig = new_figure(10, 3.4)
    base = [r for r in rows if r["stage"] == "baseline"]
    its = [r for r in rows if r["stage"] != "baseline"]
    for k, name in enumerate(("fg_iou", "f1@0.5", "are_with_bg"), start=1):
        ax = fig.add_subplot(1, 3, k)
        ax.plot([r["steps"] for r in its], [r[name] for r in its], "o-", label="self-training")
        for r in base:
            ax.axhline(r[name], color="C1", ls="--", label=f"supervised, {r['steps']} steps")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("optimizer steps")
        if k == 1:
            ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.16, top=0.88, wspace=0.3)
    return save_figure(fig, path)
