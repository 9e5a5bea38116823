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
