"""Early stopping: moving average, patience, min_delta, divergence guard, state."""

from __future__ import annotations

import math

import pytest

from volseg.train.early_stop import EarlyStopping, improves


def run(rule: EarlyStopping, values: list[float]) -> int | None:
    """1-based index of the value at which the rule stops, or None."""
    for i, v in enumerate(values):
        if rule.update(v) is not None:
            return i + 1
    return None


def reference(values, *, mode, patience, min_delta, smoothing, limit=None) -> int | None:
    """Plain re-statement of the rule, written independently."""
    best, wait = None, 0
    for i in range(len(values)):
        v = values[i]
        if not math.isfinite(v) or (
            limit is not None and (v > limit if mode == "min" else v < limit)
        ):
            return i + 1
        finite = [x for x in values[: i + 1]]
        window = finite[max(0, len(finite) - smoothing) :]
        avg = sum(window) / len(window)
        better = best is None or (
            avg < best - min_delta if mode == "min" else avg > best + min_delta
        )
        if better:
            best, wait = avg, 0
        else:
            wait += 1
            if wait >= patience:
                return i + 1
    return None


def test_patience_on_raw_values() -> None:
    rule = EarlyStopping(mode="min", patience=2)
    assert run(rule, [3.0, 2.0, 2.5, 2.0, 1.0]) == 4  # 2.0 does not beat 2.0
    rule = EarlyStopping(mode="max", patience=2)
    assert run(rule, [0.1, 0.2, 0.3, 0.25, 0.4, 0.3, 0.3]) == 7


def test_min_delta() -> None:
    rule = EarlyStopping(mode="min", patience=2, min_delta=0.1)
    assert run(rule, [1.0, 0.95, 0.92, 0.5]) == 3


@pytest.mark.parametrize("seed", range(5))
def test_smoothing_matches_reference(seed: int) -> None:
    import random

    rng = random.Random(seed)
    values = [1.0 / (1 + i) + rng.uniform(0, 0.3) for i in range(40)]
    for mode in ("min", "max"):
        kw = dict(mode=mode, patience=3, min_delta=0.01, smoothing=4)
        assert run(EarlyStopping(**kw), values) == reference(values, **kw)


def test_divergence_guard_and_nan() -> None:
    rule = EarlyStopping(mode="min", patience=50, divergence_threshold=10.0)
    assert rule.update(5.0) is None
    reason = rule.update(11.0)
    assert reason is not None and "above divergence_threshold 10" in reason
    rule = EarlyStopping(mode="max", patience=50, divergence_threshold=0.1)
    assert "below" in rule.update(0.05)
    assert "nan" in EarlyStopping(mode="min", patience=5).update(float("nan"))


def test_state_round_trip() -> None:
    a = EarlyStopping(mode="min", patience=3, smoothing=2)
    for v in (3.0, 2.0, 2.5):
        a.update(v)
    b = EarlyStopping(mode="min", patience=3, smoothing=2)
    b.load_state_dict(a.state_dict())
    tail = [2.4, 2.6, 2.7, 2.8]
    assert run(a, tail) == run(b, tail) == 3


def test_improves() -> None:
    assert improves(1.0, None, "min")
    assert not improves(float("nan"), None, "min")
    assert improves(0.5, 1.0, "min") and not improves(1.0, 1.0, "min")
    assert improves(0.6, 0.5, "max", 0.05) and not improves(0.54, 0.5, "max", 0.05)
