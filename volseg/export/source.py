"""What an export reads: a run directory or a checkpoint, and what lies beside it.

``CKPT_OR_RUN`` is either a run directory (``runs/<experiment>/<stamp>`` or its ``latest``
link), whose ``checkpoints/best.pt`` is exported, or a checkpoint file; a checkpoint inside a
run's ``checkpoints/`` folder brings its run along. From the run come ``metrics.csv`` (the
training summary of the documentation), ``test/test_metrics.json`` (``volseg test``'s scores)
and ``model_card.yaml``; from the checkpoint's folder
``thresholds.json`` (the decoder settings a sweep found). The config is the one stored inside
the checkpoint: exactly what trained these weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError
from volseg.train import run_dir as rd

THRESHOLDS = "thresholds.json"
#: ``volseg test``'s scores in the run (``RUN/test/test_metrics.json``).
TEST_METRICS = Path("test") / "test_metrics.json"


@dataclass
class ExportSource:
    """A checkpoint to export and its surroundings.

    Attributes:
        checkpoint: the checkpoint file.
        run_dir: the run directory it belongs to, if any.
        ckpt: the loaded checkpoint (:func:`volseg.checkpoint.load_checkpoint`).
        cfg: the config stored in the checkpoint, checked and with defaults filled in.
        thresholds: ``thresholds.json`` beside the checkpoint, if any.
        metrics: rows of the run's ``metrics.csv`` (empty without one).
        test_metrics: the run's ``test/test_metrics.json`` (``volseg test``), if any.
    """

    checkpoint: Path
    run_dir: Path | None
    ckpt: dict[str, Any]
    cfg: Any
    thresholds: Path | None = None
    metrics: list[dict[str, float]] = field(default_factory=list)
    test_metrics: Path | None = None

    @property
    def model_cfg(self) -> dict[str, Any]:
        """The model section the weights were trained with."""
        return dict(self.ckpt["model_cfg"])


def locate(path: str | os.PathLike[str]) -> tuple[Path, Path | None]:
    """``(checkpoint, run_dir)`` for a run directory or a checkpoint file."""
    path = Path(path)
    if path.is_dir():
        best = path / rd.CHECKPOINTS / rd.BEST
        if not best.is_file():
            raise VolsegError(
                f"run directory {path} has no {rd.CHECKPOINTS}/{rd.BEST} (training keeps one "
                "from its first validation on); export a checkpoint file instead, or train "
                "until one is written."
            )
        return best, path
    if not path.exists():
        hint = rd.missing_latest_hint(path)
        raise VolsegError(
            f"{path} does not exist (expected a run directory or a checkpoint).{hint}"
        )
    folder = path.parent
    run = folder.parent
    inside_run = folder.name == rd.CHECKPOINTS and (run / rd.CONFIG).is_file()
    return path, run if inside_run else None


def open_source(path: str | os.PathLike[str]) -> ExportSource:
    """Load the checkpoint named by ``path`` (see the module docstring) and its surroundings."""
    from volseg.checkpoint import load_checkpoint
    from volseg.config import loads
    from volseg.train.logger import read_csv

    checkpoint, run_dir = locate(path)
    ckpt = load_checkpoint(checkpoint)
    if not ckpt.get("model_cfg"):
        raise VolsegError(f"checkpoint {checkpoint} records no model section to rebuild from.")
    text = ckpt.get("config_yaml") or ""
    cfg = loads(text, source=f"the config stored in {checkpoint}", base_dir=checkpoint.parent)
    thresholds = checkpoint.parent / THRESHOLDS
    metrics = read_csv(run_dir / rd.METRICS) if run_dir is not None else []
    scores = run_dir / TEST_METRICS if run_dir is not None else None
    return ExportSource(
        checkpoint=checkpoint,
        run_dir=run_dir,
        ckpt=ckpt,
        cfg=cfg,
        thresholds=thresholds if thresholds.is_file() else None,
        metrics=metrics,
        test_metrics=scores if scores is not None and scores.is_file() else None,
    )
