import pytest

from volseg.errors import VolsegError
from volseg.tune.space import apply_setting, expand, normalise_space


def test_normalise_and_expand_grid():
    space = normalise_space(
        {"binary_threshold.0": [0.8, 0.9], "min_instance_size": {"low": 0, "high": 100, "num": 3}}
    )
    assert space == {"binary_threshold.seed": [0.8, 0.9], "min_instance_size": [0, 50, 100]}
    grid = expand(space)
    assert len(grid) == 6
    assert grid[0] == {"binary_threshold.seed": 0.8, "min_instance_size": 0}


def test_apply_setting_fills_pairs():
    params = apply_setting(
        {"binary_threshold": (0.9, 0.85), "contour_threshold": None},
        {"binary_threshold.fg": 0.5, "contour_threshold.seed": 0.7},
    )
    assert params["binary_threshold"] == (0.9, 0.5)
    assert params["contour_threshold"] == (0.7, None)


def test_duplicate_and_bad_specs():
    with pytest.raises(VolsegError, match="twice"):
        normalise_space({"binary_threshold.0": [0.5], "binary_threshold.seed": [0.6]})
    with pytest.raises(VolsegError, match="low, high, num"):
        normalise_space({"min_seed_size": {"low": 0}})
    with pytest.raises(VolsegError, match="no values"):
        normalise_space({"min_seed_size": []})
    with pytest.raises(VolsegError, match="num_samples"):
        expand({"min_seed_size": [1]}, method="random")
