"""The threshold schedule: strict to relaxed, exact values."""

from __future__ import annotations

import pytest

from volseg.selftrain.schedule import thresholds


def test_three_iterations_from_strict_to_relaxed() -> None:
    assert thresholds([0.95, 0.91], [0.05, 0.09], 3) == [(0.95, 0.05), (0.93, 0.07), (0.91, 0.09)]


def test_one_iteration_uses_the_first_values_and_constant_stays() -> None:
    assert thresholds([0.95, 0.91], [0.05, 0.09], 1) == [(0.95, 0.05)]
    assert thresholds([0.9, 0.9], [0.1, 0.1], 2) == [(0.9, 0.1), (0.9, 0.1)]


def test_zero_iterations_refused() -> None:
    with pytest.raises(ValueError, match="iterations"):
        thresholds([0.9, 0.8], [0.1, 0.2], 0)


def test_class_balanced_takes_the_most_confident_share_of_each_class() -> None:
    import numpy as np

    from volseg.selftrain.schedule import class_balanced

    rng = np.random.default_rng(0)
    # a Dice-trained map: background never below 0.12, foreground never above 0.99
    p = np.concatenate([rng.uniform(0.12, 0.45, 9000), rng.uniform(0.55, 0.99, 1000)])
    hi, lo = class_balanced(p, 0.2, t_hi=0.95, t_lo=0.05)
    assert 0.12 < lo < 0.45 and 0.55 < hi <= 0.95
    assert np.mean(p[p < 0.5] <= lo) == pytest.approx(0.2, abs=0.002)
    assert np.mean(p[p >= 0.5] >= hi) == pytest.approx(0.2, abs=0.002)
    # a confident network: the fixed thresholds already take more, and they stand
    sure = np.concatenate([np.full(900, 0.01), np.full(100, 0.999)])
    assert class_balanced(sure, 0.2, t_hi=0.95, t_lo=0.05) == (0.95, 0.05)
    # one class missing: its fixed threshold stays
    assert class_balanced(np.full(10, 0.3), 0.5, t_hi=0.9, t_lo=0.1)[0] == 0.9
    with pytest.raises(ValueError, match="proportion"):
        class_balanced(p, 0.0, t_hi=0.95, t_lo=0.05)
