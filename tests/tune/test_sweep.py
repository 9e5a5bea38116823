import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.decode import contour_distance
from volseg.errors import VolsegError
from volseg.metrics import adapted_rand, voi
from volseg.tune import sweep


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    gt = ball_labels(shape=(20, 48, 48), centres=((10, 14, 14), (10, 30, 30), (6, 36, 12)))
    maps = oracle_maps(gt)
    maps = maps + rng.normal(0, 0.1, maps.shape).astype(np.float32)
    maps[:2] = np.clip(maps[:2], 0, 1)
    maps[2] = np.clip(maps[2], -1, 1)
    return maps, gt


SPACE = {
    "binary_threshold.seed": [0.8, 0.95],
    "binary_threshold.fg": [0.5, 0.85],
    "distance_threshold.seed": [0.3, 0.6],
    "min_instance_size": [0, 30],
}


def test_sweep_equals_one_full_decode_per_setting(case):
    maps, gt = case
    mask = np.ones(gt.shape, dtype=bool)
    mask[:, :4] = False
    result = sweep(maps, gt, SPACE, mask=mask, base_params={"min_seed_size": 4}, workers=2)
    assert len(result.rows) == 16
    assert result.work == {"settings": 16, "seed_sets": 4, "foregrounds": 2, "floods": 8}
    for row in result.rows:
        labels = contour_distance(
            maps,
            binary_threshold=(row["binary_threshold.seed"], row["binary_threshold.fg"]),
            distance_threshold=(row["distance_threshold.seed"], 0.0),
            min_seed_size=4,
            min_instance_size=row["min_instance_size"],
        )
        are, p, r = adapted_rand(labels, gt, mask=mask)
        split, merge = voi(labels, gt, mask=mask)
        assert row["are"] == pytest.approx(are, abs=1e-12)
        assert row["precision"] == pytest.approx(p, abs=1e-12)
        assert row["recall"] == pytest.approx(r, abs=1e-12)
        assert row["voi"] == pytest.approx(split + merge, abs=1e-12)
        assert row["n_instances"] == labels.max()
    best = min(result.rows, key=lambda r: r["are"])
    assert result.best_row["are"] == best["are"]
    assert result.best_params["binary_threshold"][0] == result.best_row["binary_threshold.seed"]
    assert result.best_params["contour_threshold"] == (0.8, None)


def test_random_search_is_a_seeded_subset(case):
    maps, gt = case
    a = sweep(maps, gt, SPACE, method="random", num_samples=5, seed=1, workers=1)
    b = sweep(maps, gt, SPACE, method="random", num_samples=5, seed=1, workers=1)
    assert len(a.rows) == 5
    assert a.rows == b.rows


def test_cc_mode_sweep(case):
    maps, gt = case
    result = sweep(maps, gt, {"binary_threshold.fg": [0.5, 0.9]}, base_params={"mode": "cc"})
    assert result.work["seed_sets"] == 0 and result.work["floods"] == 2


@pytest.mark.parametrize(
    "space, kwargs, message",
    [
        ({"binary_treshold.seed": [0.5]}, {}, "did you mean `binary_threshold.seed`"),
        ({}, {}, "empty"),
        ({"binary_threshold.seed": [1.5]}, {}, "lie in"),
        ({"min_seed_size": [1.5]}, {}, "whole numbers"),
        ({"binary_threshold.seed": [0.5]}, {"metric": "dice"}, "metric"),
        ({"binary_threshold.seed": [0.5]}, {"method": "bayes"}, "method"),
    ],
)
def test_bad_sweeps(case, space, kwargs, message):
    maps, gt = case
    with pytest.raises(VolsegError, match=message):
        sweep(maps, gt, space, **kwargs)


def test_shape_mismatch(case):
    maps, gt = case
    with pytest.raises(VolsegError, match="does not match"):
        sweep(maps, gt[:-1], SPACE)
