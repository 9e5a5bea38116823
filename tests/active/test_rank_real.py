"""Rankings of real EM data (Lucchi++ 5 nm): the strategies pick different regions."""

from __future__ import annotations

import itertools

import numpy as np

from tests.active.conftest import REGION, real_raw
from volseg.active import STRATEGIES
from volseg.active import acquisition as acq
from volseg.active.regions import slices, tile


def _top(ranking, k=5):
    return [(r["z0"], r["y0"], r["x0"]) for r in ranking[:k]]


def test_uncertainty_orderings_differ_on_a_fixed_probability_map_of_real_data():
    """p = a fixed function of the real image: sigmoid of the smoothed, standardised darkness
    (mitochondria are dark), on 64 regions of 16 x 64 x 64."""
    from scipy.ndimage import gaussian_filter

    raw = real_raw((64, 256, 256)).astype(np.float32)
    g = gaussian_filter(raw, 2.0)
    p = 1.0 / (1.0 + np.exp((g - np.median(g)) / (0.5 * g.std())))
    boxes = tile(p.shape, REGION)
    tops = {}
    for name, score in acq.SCORERS.items():
        values = [score(p[slices(b)]) for b in boxes]
        tops[name] = [boxes[i] for i in acq.order_by_score(values)[:8]]
    for a, b in itertools.combinations(tops, 2):
        assert tops[a] != tops[b], (a, b)
        assert len(set(tops[a]) & set(tops[b])) < 8, (a, b)


def test_every_strategy_ranks_the_whole_pool_in_its_own_order(rankings):
    assert set(rankings) == set(STRATEGIES)
    for name, ranking in rankings.items():
        assert [r["rank"] for r in ranking] == list(range(1, 19)), name
        assert len({_top(ranking, 18)[i] for i in range(18)}) == 18, name
        assert {r["strategy"] for r in ranking} == {name}
        assert all(np.isfinite(r["score"]) for r in ranking)
    tops = {name: _top(r) for name, r in rankings.items()}
    for a, b in itertools.combinations(tops, 2):
        assert tops[a] != tops[b], (a, b, tops[a])


def test_scores_descend_for_the_scored_strategies(rankings):
    for name in ("random", *acq.UNCERTAINTY, "tta"):
        scores = [r["score"] for r in rankings[name]]
        assert scores == sorted(scores, reverse=True), name
