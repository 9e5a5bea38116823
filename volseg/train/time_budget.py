"""The wall-clock budget of a run (``optimization.max_time``) and its share used so far.

The budget counts the wall time of the whole fit: set-up, training, validation, checkpoints
and figures, as a SLURM walltime does; a resumed run adds the time recorded in its checkpoint.
Training must stop early enough for the last validation and checkpoints to fit, so the budget
keeps a *reserve*: the longest patch validation, whole-region validation and checkpoint/figure
writing seen so far, added up (at most half the budget). A part that has not run yet (a first
whole-region validation or figure, when the last epoch is the first to have one) is not in the
reserve, so it may overrun the budget by its own length: set ``max_time`` a little below a hard
walltime. Since the learning rate follows the clock, a budgeted run is not repeatable bit for
bit (its resume continues the schedule, not the exact numbers).

:meth:`TimeBudget.fraction` is the share of the training time used, ``elapsed / (max_time -
reserve)``, capped at 1. After each optimizer step it looks one step ahead
(:meth:`TimeBudget.after_step`: the next step is taken to last as long as the last one), so the
last step ends before the reserve begins. It never decreases (elapsed and reserve only grow), so
the schedule that follows it (:class:`volseg.train.optim.Schedule`) only moves forward, and
reaches its end exactly when training must stop, however the step rate changes during the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from volseg.config.duration import format_duration

#: The clock of every budget (tests replace it with a fake one).
CLOCK: Callable[[], float] = time.monotonic
#: Largest share of the budget kept for the last validation and checkpoints.
MAX_RESERVE = 0.5


class TimeBudget:
    """Seconds allowed, seconds used (this process and earlier ones), and the reserve.

    Args:
        seconds: the budget (``optimization.max_time``).
        started: the clock reading at which this process started counting (default: now).
    """

    def __init__(self, seconds: float, *, started: float | None = None) -> None:
        self.seconds = float(seconds)
        self.started = CLOCK() if started is None else float(started)
        self.used_before = 0.0
        self.costs: dict[str, float] = {}
        self.step_seconds = 0.0
        self._mark: float | None = None

    def elapsed(self, now: float | None = None) -> float:
        """Seconds used so far (or at clock reading ``now``), earlier processes included."""
        return self.used_before + (CLOCK() if now is None else now) - self.started

    def remaining(self) -> float:
        """Seconds left of the budget (negative past it)."""
        return self.seconds - self.elapsed()

    def reserve(self) -> float:
        """Seconds kept for the last validation and checkpoints."""
        return min(sum(self.costs.values()), MAX_RESERVE * self.seconds)

    def fraction(self, *, ahead: float = 0.0, now: float | None = None) -> float:
        """Share of the training time used, ``ahead`` seconds from now (0 to 1)."""
        span = self.seconds - self.reserve()
        return min(1.0, max(0.0, (self.elapsed(now) + ahead) / span))

    def new_epoch(self) -> None:
        """Start timing steps afresh (the time since the last step was validation)."""
        self._mark = CLOCK()

    def after_step(self) -> float:
        """:meth:`fraction` once the next optimizer step is done, the next step taking as long
        as the one that just ended (call after each step)."""
        now = CLOCK()
        if self._mark is not None:
            self.step_seconds = now - self._mark
        self._mark = now
        return self.fraction(ahead=self.step_seconds, now=now)

    def record(self, part: str, seconds: float) -> None:
        """Remember how long one end-of-epoch ``part`` took (the longest one counts)."""
        self.costs[part] = max(self.costs.get(part, 0.0), float(seconds))

    @contextmanager
    def timed(self, part: str) -> Iterator[None]:
        """Time the block as ``part`` of the end of an epoch (see :meth:`record`)."""
        start = CLOCK()
        try:
            yield
        finally:
            self.record(part, CLOCK() - start)

    def describe(self) -> str:
        """``0:03:10 of max_time 0:05:00 used, 0:01:50 left`` (for ``train.log``)."""
        left = self.remaining()
        tail = f"{format_duration(left)} left" if left > 0 else "none left"
        used, total = format_duration(self.elapsed()), format_duration(self.seconds)
        return f"{used} of max_time {total} used, {tail}"

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps: the budget, seconds used until now, part and step costs."""
        return {
            "seconds": self.seconds,
            "used": self.elapsed(),
            "costs": dict(self.costs),
            "step_seconds": self.step_seconds,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`: its seconds count as used before this process."""
        self.used_before = float(state["used"])
        self.costs = {str(k): float(v) for k, v in dict(state.get("costs") or {}).items()}
        self.step_seconds = float(state.get("step_seconds", 0.0))


def timed(budget: TimeBudget | None, part: str) -> Any:
    """:meth:`TimeBudget.timed`, or a no-op without a budget."""
    return nullcontext() if budget is None else budget.timed(part)


def shared_fraction(s: Any, *, ahead: float = 0.0, step: bool = False) -> float | None:
    """Rank 0's :meth:`TimeBudget.fraction` of session ``s`` (:meth:`TimeBudget.after_step`
    with ``step``), the same on every process: the learning rate and the decision to stop must
    agree across DDP ranks. None without a budget."""
    if s.budget is None:
        return None
    if not s.is_main:
        value = None
    else:
        value = s.budget.after_step() if step else s.budget.fraction(ahead=ahead)
    return float(s.fabric.broadcast(value)) if s.distributed else value
