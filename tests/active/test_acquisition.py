"""Region scores on handcrafted probability maps, k-center picks, tiling."""

from __future__ import annotations

import numpy as np
import pytest

from volseg.active import acquisition as acq
from volseg.active.regions import parse_region, rectangle, tile, with_context
from volseg.errors import VolsegError


def _h(p: float) -> float:
    return float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)))


def _map(parts: list[tuple[float, int]]) -> np.ndarray:
    return np.concatenate([np.full(n, p) for p, n in parts]).reshape(1, 10, 10)


# A: unsure everywhere, mildly; B: a few voxels at 0.5, the rest sure; C: 60% at 0.8, rest 0.
A = _map([(0.7, 100)])
B = _map([(0.5, 10), (0.99, 90)])
C = _map([(0.8, 60), (0.0, 40)])


def test_exact_scores_on_a_handcrafted_map():
    assert acq.least_confidence(A) == pytest.approx(0.3)
    assert acq.least_confidence(B) == pytest.approx(0.5)
    assert acq.least_confidence(C) == pytest.approx(0.2)
    assert acq.entropy(A) == pytest.approx(_h(0.7))
    assert acq.entropy(B) == pytest.approx(0.1 * 1.0 + 0.9 * _h(0.99))
    assert acq.entropy(C) == pytest.approx(0.6 * _h(0.8))
    assert acq.margin(A) == 1.0  # |2 * 0.7 - 1| = 0.4 < 0.5
    assert acq.margin(B) == pytest.approx(0.1)
    assert acq.margin(C) == 0.0  # |2 * 0.8 - 1| = 0.6
    assert acq.tta_disagreement(np.stack([np.zeros((2, 2)), np.ones((2, 2))])) == 0.25


def test_the_three_uncertainty_orderings_differ_on_the_handcrafted_map():
    maps = {"A": A, "B": B, "C": C}
    orders = {
        name: "".join(sorted(maps, key=lambda k, f=f: -f(maps[k])))
        for name, f in acq.SCORERS.items()
    }
    assert orders == {"least_confidence": "BAC", "entropy": "ACB", "margin": "ABC"}


def test_k_center_picks_the_farthest_and_hybrid_starts_from_the_most_uncertain():
    x = np.array([[0.0], [1.0], [10.0], [11.0], [5.0]])
    picks, gains = acq.k_center(x, 3)
    assert picks == [4, 3, 0]  # nearest the mean, then farthest, then farthest from both
    assert gains[1] > gains[2] > 0
    w = np.array([0.1, 1.0, 0.2, 0.2, 0.5])
    picks, _ = acq.k_center(x, 2, weights=w)
    assert picks[0] == 1
    assert picks[1] == 3  # distance 10 * 0.2 beats 4 * 0.5 and 9 * 0.2
    picks, _ = acq.k_center(x, 2, chosen=[0, 1])  # the labelled set counts as picked
    assert picks == [3, 4]


def test_random_scores_follow_the_seed():
    assert np.array_equal(acq.random_scores(20, 3), acq.random_scores(20, 3))
    assert not np.array_equal(acq.random_scores(20, 3), acq.random_scores(20, 4))


def test_tiling_and_region_parsing():
    boxes = tile((33, 64, 70), (16, 32, 32))
    assert len(boxes) == 2 * 2 * 2
    assert boxes[0] == (0, 16, 0, 32, 0, 32) and boxes[-1] == (16, 32, 32, 64, 32, 64)
    with pytest.raises(VolsegError, match="smaller than one region"):
        tile((8, 64, 64), (16, 32, 32))
    assert parse_region("16,128,128") == (16, 128, 128)
    with pytest.raises(VolsegError, match="three positive integers"):
        parse_region("16,0,128")
    grown, inner = with_context((0, 16, 32, 64, 32, 64), (2, 8, 8), (33, 64, 70))
    assert grown == (0, 18, 24, 64, 24, 70) and inner == (0, 16, 8, 40, 8, 40)
    assert rectangle({"z0": 16, "z1": 32, "y0": 0, "y1": 32, "x0": 5, "x1": 9}) == [
        (23, 0, 5), (23, 0, 9), (23, 32, 9), (23, 32, 5)
    ]  # fmt: skip
