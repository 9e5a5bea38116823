"""volseg's normalisation as spec steps: exact where the spec has an equivalent, the one
difference (zscore with clipping) computed as bioimageio.core computes it."""

from types import SimpleNamespace

import numpy as np
import pytest

from volseg.data.normalize import image_stats, normalize
from volseg.errors import VolsegError
from volseg.export.processing import (
    clips_before_zscore,
    normalize_as_package,
    preprocessing,
    split_activations,
)

AXES = ["channel", "z", "y", "x"]


def transform(mode, low=0.0, high=1.0):
    return SimpleNamespace(normalize=mode, clip_percentile_low=low, clip_percentile_high=high)


def tile(seed=0):
    rng = np.random.default_rng(seed)
    return rng.gamma(2.0, 30.0, size=(1, 4, 16, 16)).astype(np.float32)


def ids(steps):
    return [s.id for s in steps]


@pytest.mark.parametrize("t", [transform("0-1"), transform("0-1", 0.01, 0.99),
                               transform("zscore"), transform("none")])  # fmt: skip
def test_package_normalisation_equals_volseg_where_the_spec_has_an_equivalent(t):
    raw = tile()
    stats = {}
    if t.normalize != "none":
        stats = image_stats(raw, low=t.clip_percentile_low, high=t.clip_percentile_high)
    np.testing.assert_allclose(
        normalize_as_package(raw, t), normalize(raw, stats, mode=t.normalize), atol=1e-5
    )
    assert not clips_before_zscore(t)


def test_zscore_with_clipping_takes_the_statistics_before_clipping():
    t, raw = transform("zscore", 0.01, 0.99), tile()
    assert clips_before_zscore(t)
    lo, hi = np.quantile(raw, [0.01, 0.99], method="inverted_cdf")
    expected = (np.clip(raw, lo, hi) - raw.mean()) / (raw.std() + 1e-6)
    np.testing.assert_allclose(normalize_as_package(raw, t), expected, atol=1e-5)
    volseg = normalize(raw, image_stats(raw, low=0.01, high=0.99), mode="zscore")
    assert np.abs(normalize_as_package(raw, t) - volseg).max() > 1e-3  # the stated difference


def test_steps_per_mode():
    assert ids(preprocessing(transform("0-1", 0.01, 0.998), AXES)) == ["scale_range", "clip"]
    scale = preprocessing(transform("0-1", 0.01, 0.998), AXES)[0].kwargs
    assert (scale.min_percentile, scale.max_percentile) == (1.0, pytest.approx(99.8))
    assert [str(a) for a in scale.axes] == AXES  # per sample: the batch axis is not reduced
    assert ids(preprocessing(transform("zscore"), AXES)) == ["zero_mean_unit_variance"]
    clip = preprocessing(transform("zscore", 0.0, 0.99), AXES)[0].kwargs
    assert clip.min_percentile is None and clip.max_percentile == pytest.approx(99.0)
    assert preprocessing(transform("none"), AXES) == []
    with pytest.raises(VolsegError, match="clip_percentile_high must be above 0.01"):
        preprocessing(transform("0-1", 0.0, 0.005), AXES)


def test_sigmoid_is_a_step_unless_a_channel_needs_tanh():
    steps, in_network = split_activations(["sigmoid", "sigmoid"])
    assert ids(steps) == ["sigmoid"] and in_network == []
    steps, in_network = split_activations(["sigmoid", "tanh"])
    assert steps == [] and in_network == ["sigmoid", "tanh"]
