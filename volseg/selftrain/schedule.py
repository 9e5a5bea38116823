"""The threshold schedule: strict to relaxed, linear from the first to the last iteration."""

from __future__ import annotations

from collections.abc import Sequence


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
