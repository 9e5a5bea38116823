"""A rich progress bar per epoch showing loss, learning rate and iterations per second."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)


class EpochProgress:
    """Progress of the running epoch; does nothing when ``enabled`` is False.

    Args:
        enabled: draw the bar (default: :func:`volseg.progress.enabled`, i.e. when stderr is
            a terminal and ``volseg -q`` did not switch bars off).
        total_epochs: for the description.
    """

    def __init__(self, *, enabled: bool | None, total_epochs: int) -> None:
        from volseg.progress import enabled as bars_enabled

        self.enabled = bars_enabled() if enabled is None else enabled
        self.total_epochs = total_epochs
        self._progress: Any = None
        self._task: Any = None
        self._start = 0.0
        self._done = 0

    def __enter__(self) -> EpochProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}  lr {task.fields[lr]}  {task.fields[rate]}"),
                TimeRemainingColumn(), console=Console(stderr=True), transient=False,
            )  # fmt: skip
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start_epoch(self, epoch: int, steps: int) -> None:
        """Begin the bar of 1-based ``epoch`` with ``steps`` optimizer steps."""
        self._start, self._done = time.perf_counter(), 0
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(
            f"epoch {epoch}/{self.total_epochs}", total=steps, loss="-", lr="-", rate="-"
        )

    def step(self, values: dict[str, float]) -> None:
        """One optimizer step done with these logged ``values``."""
        self._done += 1
        if self._progress is None:
            return
        rate = self._done / max(time.perf_counter() - self._start, 1e-9)
        self._progress.update(
            self._task, advance=1, loss=f"{values.get('train/loss', float('nan')):.4f}",
            lr=f"{values.get('train/lr', float('nan')):.2e}", rate=f"{rate:.2f} it/s",
        )  # fmt: skip

    def note(self, text: str) -> None:
        """Print a line above the bar (or log it without one)."""
        if self._progress is not None:
            self._progress.console.print(text)
        elif self.enabled:
            log.info(text)
