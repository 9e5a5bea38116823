"""Curves of several runs side by side: one panel per value, one colour per run.

Each run's raw values are drawn faint (alpha 0.3) behind their moving average, so spiky
validation curves are not read raw. The average is *trailing* (:func:`moving_average`: the mean
of the last ``window`` values, fewer at the start), so a point never uses later epochs.
Training loss is drawn per step, validation values per epoch.
"""

from __future__ import annotations

from pathlib import Path

from volseg.compare.runs import Run
from volseg.train.figures import moving_average, new_figure, save_figure
from volseg.train.names import DIRECTION, TRAIN_LOSS

STEP_LOSS = "train/loss"

__all__ = ["moving_average", "panels", "save_curves"]


def panels(runs: list[Run], metric: str) -> list[tuple[str, str]]:
    """``(value name, x axis)`` of each panel: the metric, the training loss, then the other
    ``val/*`` scores every run logged."""
    out = [(metric, "epoch")]
    if all(r.values(STEP_LOSS, x="step") for r in runs):
        out.append((STEP_LOSS, "step"))
    elif all(r.values(TRAIN_LOSS) for r in runs):
        out.append((TRAIN_LOSS, "epoch"))
    common = set.intersection(*({k for row in r.rows for k in row} for r in runs))
    for name in sorted(common):
        if name.startswith("val/") and name in DIRECTION and name != metric:
            if all(r.values(name) for r in runs):
                out.append((name, "epoch"))
    return out


def save_curves(path: str | Path, runs: list[Run], metric: str, *, window: int = 5) -> Path:
    """Draw the comparison curves to ``path`` (PNG, written atomically)."""
    todo = panels(runs, metric)
    cols = min(3, len(todo))
    nrows = -(-len(todo) // cols)
    fig = new_figure(4.5 * cols, 3.2 * nrows)
    for k, (name, x) in enumerate(todo, start=1):
        ax = fig.add_subplot(nrows, cols, k)
        for i, run in enumerate(runs):
            pts = run.values(name, x=x)
            if not pts:
                continue
            xs, ys = zip(*pts, strict=True)
            colour = f"C{i % 10}"
            ax.plot(xs, ys, color=colour, lw=0.8, alpha=0.3)
            ax.plot(xs, moving_average(ys, window), color=colour, lw=1.6, label=run.name)
        ax.set_title(f"{name} (trailing mean of {window})", fontsize=9)
        ax.set_xlabel(x)
        if k == 1:
            ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.9, wspace=0.3, hspace=0.5)
    return save_figure(fig, path)
