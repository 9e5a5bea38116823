"""Figures of a run (PNG, matplotlib's Agg canvas; no display and no global backend change).

- :func:`save_slices`: one row of panels, e.g. input | ground truth | each predicted map.
- :func:`save_curves`: training loss per step (raw and moving average) and every validation
  value per epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from volseg.atomic import atomic_write

#: Panel kinds: grey image, instance labels (random colours), map in [0, 1], map in [-1, 1].
KINDS = ("image", "labels", "prob", "signed")


def new_figure(width: float, height: float):
    """A matplotlib figure on the Agg canvas (no GUI backend), 80 dpi."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=80)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically."""
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))


def label_colours(labels: np.ndarray) -> np.ndarray:
    """RGB image of instance ``labels``: a fixed pseudo-random colour per id, black for 0."""
    ids = np.asarray(labels).astype(np.uint64)
    # Hash ids to colours (Knuth's multiplicative hash) so an id keeps its colour everywhere.
    h = (ids * np.uint64(2654435761)) & np.uint64(0xFFFFFF)
    rgb = np.stack([(h >> np.uint64(s)) & np.uint64(255) for s in (16, 8, 0)], axis=-1)
    rgb = 0.25 + 0.75 * rgb.astype(np.float32) / 255.0
    rgb[ids == 0] = 0.0
    return rgb


def save_slices(path: str | Path, panels: Sequence[tuple[str, np.ndarray, str]]) -> Path:
    """One row of 2D panels ``(title, array, kind)`` with ``kind`` in :data:`KINDS`."""
    fig = new_figure(3.0 * len(panels), 3.3)
    # Fixed margins: automatic layout engines cost more than drawing the panels.
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.9, wspace=0.05)
    for i, (title, array, kind) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        array = np.asarray(array)
        if kind == "labels":
            ax.imshow(label_colours(array), interpolation="nearest")
        elif kind == "prob":
            ax.imshow(array, cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        elif kind == "signed":
            ax.imshow(array, cmap="RdBu_r", vmin=-1.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(array, cmap="gray", interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    return save_figure(fig, path)


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over up to ``window`` values (the first ones average what exists)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, v.size + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


def save_curves(
    path: str | Path, rows: Sequence[Mapping[str, float]], *, window: int = 20
) -> Path | None:
    """Loss and metric curves from ``metrics.csv`` rows; None when there is nothing to draw."""
    train = [(r["step"], r["train/loss"]) for r in rows if "train/loss" in r]
    # Headline values only: per-term patch losses (val/patch_loss/<target>/<Loss>) stay in the CSV.
    names = sorted({k for r in rows for k in r if k.startswith("val/") and k.count("/") == 1})
    panels = (1 if train else 0) + len(names)
    if panels == 0:
        return None
    cols = min(3, panels)
    nrows = -(-panels // cols)
    fig = new_figure(4.0 * cols, 3.0 * nrows)
    k = 1
    if train:
        ax = fig.add_subplot(nrows, cols, k)
        steps, loss = zip(*train, strict=True)
        marker = "o" if len(steps) < 50 else None
        ax.plot(steps, loss, color="0.6", lw=0.8, marker=marker, ms=3, label="train/loss")
        ax.plot(steps, moving_average(loss, window), color="C0", lw=1.5, label=f"mean of {window}")
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
        k += 1
    for name in names:
        ax = fig.add_subplot(nrows, cols, k)
        pts = [(r["epoch"], r[name]) for r in rows if name in r and np.isfinite(r[name])]
        if pts:
            epochs, values = zip(*pts, strict=True)
            ax.plot(epochs, values, "o-", ms=3, color="C1", lw=0.8)
            if len(values) > 2:
                ax.plot(epochs, moving_average(values, 5), color="C3", lw=1.5, label="mean of 5")
                ax.legend(fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch")
        k += 1
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.92, wspace=0.3, hspace=0.5)
    return save_figure(fig, path)
