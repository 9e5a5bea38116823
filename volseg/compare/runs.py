"""A finished run as read for a comparison, and the checks that make a comparison fair.

:func:`collect` reads a run directory's ``config.yaml``, ``split.json`` and ``metrics.csv``.
:func:`check_comparable` refuses a set of runs whose split (volumes and training regions),
validation regions, seed or number of optimizer steps differ, or where one never logged the
compared metric; each refusal is one sentence naming the two runs and what differs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from volseg.errors import VolsegError
from volseg.train import run_dir as rd
from volseg.train.logger import read_csv
from volseg.train.names import ALIASES, DIRECTION

#: The keys of a split's volume entries that say which data it is (not its image statistics).
VOLUME_KEYS = ("image", "label", "mask", "shape", "voxel_size", "role")


@dataclass
class Run:
    """One run of a comparison: its directory, resolved config, split and metric rows."""

    run_dir: Path
    config: dict[str, Any]
    split: dict[str, Any]
    rows: list[dict[str, float]] = field(default_factory=list)
    name: str = ""

    @property
    def seed(self) -> Any:
        return (self.config.get("system") or {}).get("seed")

    @property
    def steps(self) -> int:
        """Optimizer steps trained (the last step ``metrics.csv`` logged)."""
        return int(max((r.get("step", 0) for r in self.rows), default=0))

    def values(self, name: str, *, x: str = "epoch") -> list[tuple[float, float]]:
        """``(x, value)`` of every row with a finite ``name``."""
        return [
            (r[x], r[name]) for r in self.rows if name in r and x in r and math.isfinite(r[name])
        ]


def resolve_metric(name: str) -> str:
    """The logged name of ``--metric`` (``val_iou`` -> ``val/map_fg_iou``)."""
    resolved = ALIASES.get(name, name)
    if resolved not in DIRECTION:
        valid = ", ".join([*DIRECTION, *ALIASES])
        raise VolsegError(f"--metric {name!r} is not a logged value; valid: {valid}.")
    return resolved


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` is a run directory (rather than a config file)."""
    return path.is_dir() and (path / rd.CONFIG).is_file()


def collect(run_dir: str | Path) -> Run:
    """Read a finished run directory (its config, split and metrics)."""
    run_dir = Path(run_dir)
    if not is_run_dir(run_dir):
        raise VolsegError(f"{run_dir} is not a run directory (it has no {rd.CONFIG}).")
    split_file = rd.split_path(run_dir)
    try:
        config = yaml.safe_load((run_dir / rd.CONFIG).read_text(encoding="utf-8"))
        split = json.loads(split_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise VolsegError(f"cannot read run directory {run_dir}: {exc}.") from None
    rows = read_csv(run_dir / rd.METRICS)
    if not rows:
        raise VolsegError(f"run directory {run_dir} has no {rd.METRICS} rows; did it train?")
    name = str(config.get("experiment_name") or run_dir.name)
    return Run(run_dir=run_dir, config=config, split=split, rows=rows, name=name)


def name_runs(runs: list[Run]) -> None:
    """Make the runs' names unique (``experiment/run-folder`` where experiments repeat)."""
    names = [r.name for r in runs]
    for run in runs:
        if names.count(run.name) > 1:
            run.name = f"{run.name}/{run.run_dir.name}"


def _volumes(split: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v.get(k) for k in VOLUME_KEYS} for v in split.get("volumes", [])]


def split_difference(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """What differs between two split.json contents (None when they agree)."""
    va, vb = _volumes(a), _volumes(b)
    if len(va) != len(vb):
        return f"they name {len(va)} and {len(vb)} volumes"
    for i, (x, y) in enumerate(zip(va, vb, strict=True)):
        for key in VOLUME_KEYS:
            if x[key] != y[key]:
                return f"volume {i} has {key} {x[key]} in one and {y[key]} in the other"
    if a.get("val") != b.get("val"):
        return f"their validation regions are {a.get('val')} and {b.get('val')}"
    if a.get("train") != b.get("train"):
        return f"their training regions are {a.get('train')} and {b.get('train')}"
    return None


def check_comparable(runs: list[Run], metric: str) -> None:
    """Refuse runs that were not trained on one split, with one seed and one number of steps,
    or that never logged ``metric`` (a logged name, see :func:`resolve_metric`)."""
    if not runs:
        raise VolsegError("nothing to compare: give at least one config or run directory.")
    ref = runs[0]
    for run in runs[1:]:
        diff = split_difference(ref.split, run.split)
        if diff is not None:
            raise VolsegError(
                f"runs {ref.run_dir} and {run.run_dir} were trained on different splits ({diff}); "
                "compare runs of one split.json (train configs with --split)."
            )
    for run in runs[1:]:
        if run.seed != ref.seed:
            raise VolsegError(
                f"runs {ref.run_dir} and {run.run_dir} were trained with different seeds "
                f"({ref.seed} and {run.seed}); compare runs of one seed."
            )
        if run.steps != ref.steps:
            raise VolsegError(
                f"runs {ref.run_dir} and {run.run_dir} trained different numbers of steps "
                f"({ref.steps} and {run.steps}); compare runs of one length."
            )
    for run in runs:
        if not run.values(metric):
            raise VolsegError(
                f"run {run.run_dir} logged no {metric} in its {rd.METRICS}; choose a --metric "
                "every run logged (whole-region scores need monitor.full_val_every_n_epochs > 0)."
            )
