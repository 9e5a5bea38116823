"""Sweep outputs: ``sweep.csv``, an ARE heat-map PNG and ``thresholds.json``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import atomic_write, atomic_write_text
from volseg.errors import VolsegError
from volseg.tune.sweep import SweepResult

THRESHOLDS_NAME = "thresholds.json"


def write_csv(result: SweepResult, path: str | os.PathLike) -> Path:
    """One row per setting: swept parameters then scores."""
    columns = list(result.rows[0])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    for row in result.rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return atomic_write_text(path, buf.getvalue())


def important_parameters(result: SweepResult, *, key: str = "are") -> list[str]:
    """Swept parameters ordered by how much the mean score changes across their values."""
    spreads = {}
    for name in result.names:
        by_value: dict[Any, list[float]] = {}
        for row in result.rows:
            by_value.setdefault(row[name], []).append(row[key])
        means = [float(np.mean(v)) for v in by_value.values()]
        spreads[name] = (max(means) - min(means)) if len(means) > 1 else -1.0
    return sorted(result.names, key=lambda n: -spreads[n])


def heatmap(result: SweepResult, path: str | os.PathLike, *, key: str = "are") -> Path:
    """PNG of the best (lowest) score over the two most important parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = important_parameters(result, key=key)
    ny = names[0]
    nx = names[1] if len(names) > 1 else None
    yv = sorted({r[ny] for r in result.rows}, key=_sort_key)
    xv = sorted({r[nx] for r in result.rows}, key=_sort_key) if nx else [None]
    grid = np.full((len(yv), len(xv)), np.nan)
    for row in result.rows:
        i, j = yv.index(row[ny]), xv.index(row[nx]) if nx else 0
        grid[i, j] = np.nanmin([grid[i, j], row[key]])
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(xv), 1.0 + 0.6 * len(yv)), dpi=100)
    im = ax.imshow(grid, cmap="viridis_r", aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_yticks(range(len(yv)), [str(v) for v in yv])
    ax.set_ylabel(ny)
    ax.set_xticks(range(len(xv)), [str(v) for v in xv])
    ax.set_xlabel(nx or "")
    ax.set_title("adapted Rand error (best over other parameters)" if key == "are" else key)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    out = atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return out


def _sort_key(value: Any) -> tuple:
    return (value is None, value if value is not None else 0)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def write_thresholds(
    result: SweepResult,
    directories: Iterable[str | os.PathLike],
    *,
    decoder: str = "contour_distance",
    sources: dict[str, str] | None = None,
) -> list[Path]:
    """Write ``thresholds.json`` (decoder, best parameters, scores) into each directory."""
    doc = {
        "decoder": decoder,
        "params": _jsonable(result.best_params),
        "scores": {k: v for k, v in result.best_row.items() if k not in result.names},
        "metric": result.metric,
        "settings_tried": len(result.rows),
        "sources": sources or {},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(doc, indent=2) + "\n"
    return [atomic_write_text(Path(d) / THRESHOLDS_NAME, text) for d in directories]


def read_thresholds(path: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """Return (decoder name, decoder kwargs) from a ``thresholds.json``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        decoder, params = doc["decoder"], dict(doc["params"])
    except FileNotFoundError:
        raise VolsegError(f"{path} does not exist.") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise VolsegError(f"{path} is not a volseg thresholds file ({exc}).") from None
    for k, v in params.items():
        if isinstance(v, list):
            params[k] = tuple(v)
    return decoder, params
