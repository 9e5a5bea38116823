"""The threshold schedule: strict to relaxed, linear from the first to the last iteration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def thresholds(
    t_hi: Sequence[float], t_lo: Sequence[float], iterations: int
) -> list[tuple[float, float]]:
    """``(t_hi, t_lo)`` of iterations ``1..iterations``: ``[first, last]`` of each, linearly
    interpolated (one iteration uses the first values), rounded to 6 decimals.

    >>> thresholds([0.95, 0.91], [0.05, 0.09], 3)
    [(0.95, 0.05), (0.93, 0.07), (0.91, 0.09)]
    """
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    out = []
    for k in range(iterations):
        f = k / (iterations - 1) if iterations > 1 else 0.0
        hi = t_hi[0] + f * (t_hi[1] - t_hi[0])
        lo = t_lo[0] + f * (t_lo[1] - t_lo[0])
        out.append((round(hi, 6), round(lo, 6)))
    return out


def class_balanced(
    p: np.ndarray, proportion: float, *, t_hi: float, t_lo: float
) -> tuple[float, float]:
    """``(t_hi, t_lo)`` that take the most confident ``proportion`` of each predicted class.

    Foreground is ``p >= 0.5``: its threshold is the ``1 - proportion`` quantile of those
    voxels' ``p``; background the ``proportion`` quantile of the others'. Each threshold is
    capped at the fixed one (``t_hi`` / ``t_lo``: never stricter) and at 0.5 (never looser);
    a class with no voxel keeps its fixed threshold.

    >>> class_balanced(np.array([0.1, 0.2, 0.3, 0.4, 0.9]), 0.5, t_hi=0.95, t_lo=0.05)
    (0.9, 0.2)
    """
    if not 0.0 < proportion <= 1.0:
        raise ValueError(f"proportion must lie in (0, 1], got {proportion}")
    p = np.asarray(p, dtype=np.float64).ravel()  # float32 maps convert exactly
    fg, bg = p[p >= 0.5], p[p < 0.5]
    # "higher" / "lower": at most ``proportion`` of a class passes (ties aside)
    hi = t_hi if fg.size == 0 else float(np.quantile(fg, 1.0 - proportion, method="higher"))
    lo = t_lo if bg.size == 0 else float(np.quantile(bg, proportion, method="lower"))
    hi = min(max(hi, 0.5), t_hi) if fg.size else hi
    lo = max(min(lo, 0.5 - 1e-6), t_lo) if bg.size else lo
    return hi, lo  # unrounded: a rounded threshold could pass or drop a tie (uint8 maps)
