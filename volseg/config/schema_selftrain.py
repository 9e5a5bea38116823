"""The ``selftrain:`` section: self-training with pseudo-labels (``volseg selftrain``).

Thresholds go from strict to relaxed: ``t_hi`` and ``t_lo`` are ``[first, last]`` iteration
values, linearly interpolated between (:mod:`volseg.selftrain.schedule`). A voxel whose
foreground probability is ``>= t_hi`` is pseudo-foreground, ``<= t_lo`` pseudo-background,
anything between is ignored by the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

from volseg.config.fields import spec


@dataclass
class SelfTrainConfig:
    """Self-training iterations after the supervised run."""

    iterations: int = spec(3, lo=1)
    t_hi: list[float] = spec(factory=lambda: [0.95, 0.91], lo=0.0, hi=1.0, length=2)
    t_lo: list[float] = spec(factory=lambda: [0.05, 0.09], lo=0.0, hi=1.0, length=2)
    from_scratch: bool = False
    steps: int | None = spec(None, lo=1)
