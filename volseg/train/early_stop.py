"""Early stopping on a smoothed validation value, and the best-so-far tracker of checkpoints.

Validation values are noisy (a few random patches), so early stopping compares moving
averages of the last ``smoothing`` values: training stops when the average has not improved on
its best by more than ``min_delta`` for ``patience`` validations, or at once when a value is not
finite or crosses ``divergence_threshold`` (above it for ``min``, below it for ``max``).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any


def improves(value: float, best: float | None, mode: str, min_delta: float = 0.0) -> bool:
    """Whether ``value`` beats ``best`` by more than ``min_delta`` in direction ``mode``."""
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


class EarlyStopping:
    """Stop rule: patience on a moving average, plus a divergence guard.

    Args:
        mode: ``min`` or ``max``.
        patience: validations without improvement before stopping.
        min_delta: smallest change that counts as an improvement.
        smoothing: number of values in the moving average (1 = raw values).
        divergence_threshold: stop at once past this value (None = no guard).
    """

    def __init__(
        self,
        *,
        mode: str,
        patience: int,
        min_delta: float = 0.0,
        smoothing: int = 1,
        divergence_threshold: float | None = None,
    ) -> None:
        self.mode, self.patience, self.min_delta = mode, patience, min_delta
        self.smoothing, self.divergence_threshold = smoothing, divergence_threshold
        self.recent: deque[float] = deque(maxlen=smoothing)
        self.best: float | None = None
        self.wait = 0

    def update(self, value: float) -> str | None:
        """Record one validation value; the reason to stop, or None to go on."""
        if not math.isfinite(value):
            return f"the monitored value is {value}"
        limit = self.divergence_threshold
        if limit is not None and (value > limit if self.mode == "min" else value < limit):
            side = "above" if self.mode == "min" else "below"
            return f"the monitored value {value:.6g} is {side} divergence_threshold {limit:g}"
        self.recent.append(value)
        average = sum(self.recent) / len(self.recent)
        if improves(average, self.best, self.mode, self.min_delta):
            self.best, self.wait = average, 0
            return None
        self.wait += 1
        if self.wait >= self.patience:
            return (
                f"the {len(self.recent)}-value moving average has not improved on {self.best:.6g}"
                f" by more than {self.min_delta:g} for {self.wait} validations"
            )
        return None

    def state_dict(self) -> dict[str, Any]:
        """Plain values for a checkpoint."""
        return {"recent": list(self.recent), "best": self.best, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.recent = deque((float(v) for v in state["recent"]), maxlen=self.smoothing)
        self.best = None if state["best"] is None else float(state["best"])
        self.wait = int(state["wait"])
