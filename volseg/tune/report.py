"""Sweep outputs: ``sweep.csv`` and a heat-map PNG of the objective.

``thresholds.json`` is written and read by :mod:`volseg.tune.settings`, its one owner.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import atomic_write, atomic_write_text
from volseg.metrics.objectives import OBJECTIVES
from volseg.tune.sweep import SweepResult


def write_csv(result: SweepResult, path: str | os.PathLike) -> Path:
    """One row per setting: swept parameters then scores."""
    columns = list(dict.fromkeys(k for row in result.rows for k in row))  # skipped rows: fewer
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for row in result.rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return atomic_write_text(path, buf.getvalue())


def important_parameters(result: SweepResult, *, key: str) -> list[str]:
    """Swept parameters ordered by how much the mean score changes across their values."""
    spreads = {}
    for name in result.names:
        by_value: dict[Any, list[float]] = {}
        for row in result.scored:
            by_value.setdefault(row[name], []).append(row[key])
        means = [float(np.mean(v)) for v in by_value.values()]
        spreads[name] = (max(means) - min(means)) if len(means) > 1 else -1.0
    return sorted(result.names, key=lambda n: -spreads[n])


def heatmap(result: SweepResult, path: str | os.PathLike, *, key: str) -> Path:
    """PNG of the best score (by ``key``'s direction) over the two most important parameters;
    skipped (out-of-range) settings stay blank."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = important_parameters(result, key=key)
    ny = names[0]
    nx = names[1] if len(names) > 1 else None
    yv = sorted({r[ny] for r in result.rows}, key=_sort_key)
    xv = sorted({r[nx] for r in result.rows}, key=_sort_key) if nx else [None]
    grid = np.full((len(yv), len(xv)), np.nan)
    best = np.nanmin if OBJECTIVES[key].lower_is_better else np.nanmax
    for row in result.scored:
        i, j = yv.index(row[ny]), xv.index(row[nx]) if nx else 0
        grid[i, j] = best([grid[i, j], row[key]])
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(xv), 1.0 + 0.6 * len(yv)), dpi=100)
    cmap = "viridis_r" if OBJECTIVES[key].lower_is_better else "viridis"
    im = ax.imshow(grid, cmap=cmap, aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_yticks(range(len(yv)), [str(v) for v in yv])
    ax.set_ylabel(ny)
    ax.set_xticks(range(len(xv)), [str(v) for v in xv])
    ax.set_xlabel(nx or "")
    ax.set_title(f"{key}: {OBJECTIVES[key].meaning} (best over other parameters)", fontsize=8)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    out = atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return out


def _sort_key(value: Any) -> tuple:
    return (value is None, value if value is not None else 0)
