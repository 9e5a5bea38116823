"""A tiny logger interface with interchangeable back ends (after torch-em's ``logger_base``).

:class:`Logger` has three methods: ``log(values, step=, epoch=)``, ``flush()`` and ``close()``.
:class:`CsvLogger` writes ``metrics.csv`` (one row per call; columns ``step, epoch`` and then
every value name seen so far), :class:`TensorBoardLogger` event files, :class:`MultiLogger`
forwards to several. On resume both back ends drop what was logged after the checkpoint's
step, so curves never hold a step twice.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from volseg.atomic import atomic_write_text

FIXED = ("step", "epoch")


class Logger:
    """The interface: scalar values at an optimizer step of an epoch."""

    def log(self, values: Mapping[str, float], *, step: int, epoch: int) -> None:
        """Record ``values`` (name -> number)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Push buffered values to disk."""

    def close(self) -> None:
        """Flush and release files."""
        self.flush()


def read_csv(path: str | Path) -> list[dict[str, float]]:
    """Rows of a ``metrics.csv`` as dicts of floats (empty cells left out).

    A row that does not parse (a line cut short when the process was killed) is skipped.
    """
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                rows.append({k: float(v) for k, v in row.items() if k and v not in ("", None)})
            except (TypeError, ValueError):
                continue
    return rows


class CsvLogger(Logger):
    """``metrics.csv``: appends rows; rewrites the file atomically when a new column appears.

    Args:
        path: the CSV file.
        resume_step: keep existing rows up to this step (None: start a new file).
    """

    def __init__(self, path: str | Path, *, resume_step: int | None = None) -> None:
        self.path = Path(path)
        self.rows: list[dict[str, float]] = []
        if resume_step is not None:
            self.rows = [r for r in read_csv(self.path) if r.get("step", 0) <= resume_step]
        self.columns: list[str] = list(FIXED)
        for row in self.rows:
            self._add_columns(row)
        self._rewrite()

    def _add_columns(self, row: Mapping[str, Any]) -> bool:
        new = [k for k in row if k not in self.columns]
        self.columns += new
        return bool(new)

    def _format(self, row: Mapping[str, float]) -> list[str]:
        def cell(key: str) -> str:
            v = row.get(key)
            if v is None:
                return ""
            return str(int(v)) if key in FIXED else repr(float(v))

        return [cell(k) for k in self.columns]

    def _rewrite(self) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self._format(r) for r in self.rows)
        atomic_write_text(self.path, buf.getvalue())

    def log(self, values: Mapping[str, float], *, step: int, epoch: int) -> None:
        row = {"step": float(step), "epoch": float(epoch)}
        row.update({k: float(v) for k, v in values.items() if k not in FIXED})
        self.rows.append(row)
        if self._add_columns(row):
            self._rewrite()
            return
        with self.path.open("a", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerow(self._format(row))


class TensorBoardLogger(Logger):
    """TensorBoard event files in ``log_dir`` (events after ``resume_step`` are purged)."""

    def __init__(self, log_dir: str | Path, *, resume_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        purge = None if resume_step is None else resume_step + 1
        self.writer = SummaryWriter(log_dir=str(log_dir), purge_step=purge)

    def log(self, values: Mapping[str, float], *, step: int, epoch: int) -> None:
        for name, value in values.items():
            if math.isfinite(float(value)):
                self.writer.add_scalar(name, float(value), global_step=step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class MultiLogger(Logger):
    """Forwards every call to each of ``loggers``."""

    def __init__(self, loggers: Iterable[Logger]) -> None:
        self.loggers = list(loggers)

    def log(self, values: Mapping[str, float], *, step: int, epoch: int) -> None:
        for logger in self.loggers:
            logger.log(values, step=step, epoch=epoch)

    def flush(self) -> None:
        for logger in self.loggers:
            logger.flush()

    def close(self) -> None:
        for logger in self.loggers:
            logger.close()
