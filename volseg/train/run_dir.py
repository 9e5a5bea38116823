"""The run directory: ``runs/<experiment_name>/<YYYYmmdd-HHMMSS>/``.

``runs/<experiment_name>/latest`` is a relative symbolic link to the newest run of that
experiment that finished training (replaced atomically at the end of each ``fit``), so a
fine-tuning config can name ``runs/<experiment_name>/latest/checkpoints/best.pt``.
:func:`run_dirs` lists the run directories without it.

::

    config.yaml      resolved config, exactly what ran (the seed filled in)
    split.json       which volumes/regions trained and validated
    metrics.csv      one row per logged step/epoch; TensorBoard events beside it
    checkpoints/     best.pt, last.pt (temp file + rename)
    figures/         validation slices and curves (PNG)
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import yaml

from volseg.atomic import atomic_write_text
from volseg.errors import VolsegError

CONFIG = "config.yaml"
SPLIT = "split.json"
METRICS = "metrics.csv"
CHECKPOINTS = "checkpoints"
FIGURES = "figures"
BEST = "best.pt"
LAST = "last.pt"
LATEST = "latest"


def new_run_dir(root: str | Path, experiment_name: str, *, now: dt.datetime | None = None) -> Path:
    """Create ``root/<experiment_name>/<timestamp>`` (``-1``, ``-2`` ... when it exists)."""
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    parent = Path(root) / experiment_name
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1000):
        path = parent / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        (path / CHECKPOINTS).mkdir()
        (path / FIGURES).mkdir()
        return path
    raise VolsegError(f"cannot create a run directory under {parent}: too many runs this second.")


def mark_latest(run_dir: str | Path) -> Path:
    """Point ``<experiment>/latest`` at ``run_dir`` (relative link, swapped in atomically)."""
    run_dir = Path(run_dir)
    link = run_dir.parent / LATEST
    tmp = run_dir.parent / f".{LATEST}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(run_dir.name, tmp, target_is_directory=True)
    os.replace(tmp, link)  # rename over the old link: readers see the old or the new, never none
    return link


def run_dirs(parent: str | Path) -> list[Path]:
    """The run directories of one experiment folder, oldest first (not the ``latest`` link)."""
    parent = Path(parent)
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.is_symlink())


def missing_latest_hint(path: str | Path) -> str:
    """A sentence for a weights path through a ``latest`` link that no run has made yet."""
    parts = Path(path).parts
    if LATEST not in parts:
        return ""
    experiment = parts[parts.index(LATEST) - 1] if parts.index(LATEST) > 0 else "?"
    return (
        f" No run of experiment {experiment!r} has finished yet: train it first (its "
        f"`volseg fit` points {experiment}/{LATEST} at the run directory when it ends)."
    )


def write_config(run_dir: Path, config: dict[str, Any]) -> Path:
    """Write the resolved config as ``config.yaml``.

    When resuming with a config that differs, the earlier one is kept as
    ``config.<n>.yaml`` (n = 1, 2 ...) so every setting that ran stays on record.
    """
    text = yaml.safe_dump(config, sort_keys=False)
    path = run_dir / CONFIG
    if path.is_file() and path.read_text(encoding="utf-8") != text:
        n = 1
        while (run_dir / f"config.{n}.yaml").exists():
            n += 1
        path.rename(run_dir / f"config.{n}.yaml")
    return atomic_write_text(path, text)


def last_checkpoint(run_dir: str | Path) -> Path:
    """``checkpoints/last.pt`` of an earlier run, or VolsegError saying what is missing."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise VolsegError(f"--resume {run_dir} is not a run directory (it does not exist).")
    path = run_dir / CHECKPOINTS / LAST
    if not path.is_file():
        raise VolsegError(
            f"--resume {run_dir} has no {CHECKPOINTS}/{LAST}; the run stopped before its first "
            "checkpoint (or monitor.checkpoint.save_last was false)."
        )
    return path


def split_path(run_dir: str | Path) -> Path:
    """``split.json`` of a run directory, which must exist."""
    path = Path(run_dir) / SPLIT
    if not path.is_file():
        raise VolsegError(f"run directory {run_dir} has no {SPLIT}.")
    return path
