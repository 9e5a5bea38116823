"""The ``selftrain:`` section: self-training with pseudo-labels (``volseg selftrain``).

Thresholds go from strict to relaxed: ``t_hi`` and ``t_lo`` are ``[first, last]`` iteration
values, linearly interpolated between (:mod:`volseg.selftrain.schedule`). A voxel whose
foreground probability is ``>= t_hi`` is pseudo-foreground, ``<= t_lo`` pseudo-background,
anything between is ignored by the loss.

``thresholds: class_balanced`` adapts them to the network instead (class-balanced
self-training, Zou et al. 2018): of the voxels predicted foreground (``p >= 0.5``) the most
confident ``proportion`` become pseudo-foreground, and likewise for background, so a network
whose background probability never reaches ``t_lo`` still yields pseudo-background. The fixed
``t_hi`` / ``t_lo`` then act as bounds: a threshold is never looser than ``0.5`` and never
stricter than them.
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
    thresholds: str = spec("fixed", choices=("fixed", "class_balanced"))
    proportion: list[float] = spec(factory=lambda: [0.2, 0.5], lo=0.0, hi=1.0, lo_open=True,
                                   length=2)  # fmt: skip
    from_scratch: bool = False
    steps: int | None = spec(None, lo=1)
