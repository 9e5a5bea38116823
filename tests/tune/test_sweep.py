"""The sweep machine: equal to full decodes for every decoder, honest objectives, guards."""

import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.decode.registry import decode
from volseg.errors import VolsegError
from volseg.metrics import contingency
from volseg.metrics.objectives import OBJECTIVES, all_scores
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
SPACES = {
    "contour_distance": (SPACE, {"min_seed_size": 4}),
    "cc": ({"threshold": [0.3, 0.5, 0.7], "min_instance_size": [0, 100]}, {"connectivity": 6}),
    "watershed": (
        {"threshold": [0.2, 0.4], "mask_threshold": [0.4, 0.6], "min_instance_size": [0, 50]},
        {"min_seed_size": 2},
    ),  # fmt: skip
}


def _setting_params(decoder, row, base):
    params = dict(base)
    for name, value in row.items():
        head, _, slot = name.partition(".")
        if head not in ("binary_threshold", "contour_threshold", "distance_threshold") and slot:
            continue
        if slot:
            pair = list(params.get(head, {"binary_threshold": (0.9, 0.85),
                                          "distance_threshold": (0.5, 0.0)}[head]))  # fmt: skip
            pair[0 if slot == "seed" else 1] = value
            params[head] = tuple(pair)
        elif name in ("threshold", "mask_threshold", "min_instance_size"):
            params[name] = value
    return params


@pytest.mark.parametrize("decoder", sorted(SPACES))
def test_sweep_equals_one_full_decode_per_setting(case, decoder):
    maps, gt = case
    mask = np.ones(gt.shape, dtype=bool)
    mask[:, :4] = False
    space, base = SPACES[decoder]
    result = sweep(maps, gt, space, decoder=decoder, mask=mask, base_params=base, workers=2,
                   min_size=10)  # fmt: skip
    assert result.decoder == decoder and not result.work["skipped"]
    for row in result.rows:
        labels = decode(maps, decoder, _setting_params(decoder, row, base))
        want = all_scores(contingency(labels, gt, mask=mask), min_size=10)
        for key, value in want.items():
            assert row[key] == pytest.approx(value, abs=1e-12), (key, row)
        assert row["n_instances"] == int(np.count_nonzero(np.unique(labels[mask])))
    best = min(result.scored, key=lambda r: (-r[result.metric], r["are_with_bg"]))
    assert result.best_row[result.metric] == best[result.metric]


def test_contour_distance_shares_seeds_foregrounds_and_floods(case):
    maps, gt = case
    result = sweep(maps, gt, SPACE, base_params={"min_seed_size": 4}, workers=2)
    assert result.work == {"settings": 16, "skipped": 0, "scored": 16, "seed_sets": 4,
                           "foregrounds": 2, "floods": 8}  # fmt: skip
    assert result.best_params["binary_threshold"][0] == result.best_row["binary_threshold.seed"]
    assert result.best_params["contour_threshold"] == (0.8, None)  # the decoder's own default


def test_levels_and_parallel_reach_the_flood(case):
    maps, gt = case
    space = {"binary_threshold.seed": [0.8]}
    base = {"min_seed_size": 4, "levels": 256, "parallel": True}
    result = sweep(maps, gt, space, base_params=base, workers=1)
    labels = decode(maps, "contour_distance", {**base, "binary_threshold": (0.8, 0.85)})
    assert result.rows[0]["are_ignore_bg"] == pytest.approx(
        all_scores(contingency(labels, gt))["are_ignore_bg"], abs=1e-12
    )
    assert result.best_params["levels"] == 256 and result.best_params["parallel"] is True


def test_random_search_is_a_seeded_subset(case):
    maps, gt = case
    a = sweep(maps, gt, SPACE, method="random", num_samples=5, seed=1, workers=1)
    b = sweep(maps, gt, SPACE, method="random", num_samples=5, seed=1, workers=1)
    assert len(a.rows) == 5
    assert a.rows == b.rows


def test_cc_mode_of_contour_distance(case):
    maps, gt = case
    result = sweep(maps, gt, {"binary_threshold.fg": [0.5, 0.9]}, base_params={"mode": "cc"})
    assert result.work["seed_sets"] == 0 and result.work["floods"] == 2


def test_default_metric_by_background_share(case):
    maps, gt = case
    sparse = sweep(maps, gt, {"binary_threshold.seed": [0.9]}, base_params={"min_seed_size": 4})
    assert sparse.metric == "f1@0.5" and "sparse" in sparse.metric_reason
    dense_gt = gt.copy()
    dense_gt[dense_gt == 0] = 7  # every voxel labelled: dense labels
    dense = sweep(maps, dense_gt, {"binary_threshold.seed": [0.9]})
    assert dense.metric == "are_ignore_bg" and "dense" in dense.metric_reason


def test_out_of_range_settings_are_skipped_and_reported(case):
    maps, gt = case
    lo = float(maps[0].min())
    space = {"binary_threshold.fg": [lo - 0.05, 0.5], "binary_threshold.seed": [0.9]}
    result = sweep(maps, gt, space, base_params={"min_seed_size": 4})
    skipped = [r for r in result.rows if r["skipped"]]
    assert len(skipped) == 1 and "every voxel passes" in skipped[0]["skipped"]
    assert "are_ignore_bg" not in skipped[0]
    assert result.best_row["binary_threshold.fg"] == 0.5 and result.work["skipped"] == 1
    with pytest.raises(VolsegError, match="every one of the 2 settings"):
        sweep(maps, gt, {"binary_threshold.fg": [lo - 0.1, lo - 0.05]})


def test_flooding_everything_never_wins(case):
    """A map whose lowest value is 0.33 (as a briefly trained network gives): a foreground
    threshold just above it labels nearly every voxel. ARE with gt background ignored scores
    that well, but it never wins: not under the default objective, not under that ARE."""
    maps, gt = case
    maps = maps.copy()
    rng = np.random.default_rng(0)
    maps[0] = np.where(gt > 0, maps[0], rng.uniform(0.33, 0.4, gt.shape)).astype(np.float32)
    base = {"min_seed_size": 4, "distance_threshold": (0.5, None)}
    space = {"binary_threshold.fg": [0.3301, 0.6], "binary_threshold.seed": [0.9]}
    for metric in (None, "are_ignore_bg", "voi"):
        result = sweep(maps, gt, space, base_params=base, metric=metric)
        flood = next(r for r in result.rows if r["binary_threshold.fg"] == 0.3301)
        assert flood["degenerate"] and not result.best_row["degenerate"]
        assert result.best_row["binary_threshold.fg"] == 0.6
    assert flood["are_ignore_bg"] <= result.best_row["are_ignore_bg"] + 0.05  # it would win
    with pytest.raises(VolsegError, match="labels all of the ground-truth background"):
        sweep(maps, gt, {"binary_threshold.fg": [0.3301]}, base_params=base)


@pytest.mark.parametrize(
    "space, kwargs, message",
    [
        ({"binary_treshold.seed": [0.5]}, {}, "did you mean `binary_threshold.seed`"),
        ({}, {}, "empty"),
        ({"binary_threshold.seed": [1.5]}, {}, "outside the maps' value range"),
        ({"min_seed_size": [1.5]}, {}, "whole numbers"),
        ({"binary_threshold.seed": [0.5]}, {"metric": "dice"}, "unknown metric"),
        ({"binary_threshold.seed": [0.5]}, {"metric": "adapted_rand"}, "ambiguous"),
        ({"binary_threshold.seed": [0.5]}, {"method": "bayes"}, "method"),
        ({"threshold": [0.5]}, {}, "unknown tune parameter `threshold` for decoder contour"),
        ({"binary_threshold.seed": [0.5]}, {"decoder": "magic"}, "unknown decoder"),
    ],
)
def test_bad_sweeps(case, space, kwargs, message):
    maps, gt = case
    with pytest.raises(VolsegError, match=message):
        sweep(maps, gt, space, **kwargs)


def test_instance_metric_on_a_semantic_mask_is_refused(case):
    maps, gt = case
    with pytest.raises(VolsegError, match="needs instance labels"):
        sweep(maps, gt > 0, {"binary_threshold.seed": [0.9]}, metric="f1@0.5")
    result = sweep(maps, gt > 0, {"binary_threshold.seed": [0.9]}, metric="fg_iou")
    assert result.metric == "fg_iou"


def test_shape_mismatch(case):
    maps, gt = case
    with pytest.raises(VolsegError, match="does not match"):
        sweep(maps, gt[:-1], SPACE)


def test_every_objective_is_in_the_rows(case):
    maps, gt = case
    result = sweep(maps, gt, {"binary_threshold.seed": [0.9]}, base_params={"min_seed_size": 4})
    assert set(OBJECTIVES) <= set(result.rows[0])
