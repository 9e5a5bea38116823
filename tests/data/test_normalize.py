"""Per-volume normalisation statistics and the three modes."""

import h5py
import numpy as np
import pytest

from volseg.data.normalize import image_stats, normalize
from volseg.errors import VolsegError


def test_stats_on_a_small_volume_are_exact():
    rng = np.random.default_rng(0)
    image = rng.normal(100, 20, (10, 30, 30)).astype(np.float32)
    s = image_stats(image, low=0.01, high=0.99)
    lo, hi = np.quantile(image.astype(np.float64), [0.01, 0.99])
    assert np.isclose(s["low"], lo) and np.isclose(s["high"], hi)
    clipped = np.clip(image.astype(np.float64), lo, hi)
    assert np.isclose(s["mean"], clipped.mean()) and np.isclose(s["std"], clipped.std())


def test_stats_sample_a_large_chunked_volume_evenly(tmp_path):
    z = np.arange(64, dtype=np.float32)[:, None, None]
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f.create_dataset("x", data=np.broadcast_to(z, (64, 64, 64)), chunks=(8, 64, 64))
        s = image_stats(f["x"], max_voxels=64 * 64 * 16)  # a quarter of the volume
    assert s["low"] == 0 and s["high"] == 63  # first and last blocks are in the sample
    assert abs(s["mean"] - 31.5) < 3


def test_modes():
    stats = {"low": 10.0, "high": 20.0, "mean": 15.0, "std": 2.0}
    x = np.array([[[0, 10, 15, 20, 30]]], np.uint8)
    np.testing.assert_allclose(normalize(x, stats, mode="0-1")[0, 0], [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(normalize(x, stats, mode="zscore")[0, 0], [-2.5, -2.5, 0, 2.5, 2.5])
    none = normalize(x, stats, mode="none")
    assert none.dtype == np.float32 and none.tolist() == x.astype(np.float32).tolist()
    f = np.ones((1, 1, 2), np.float32)
    assert normalize(f, stats, mode="none") is not f  # callers may change the result in place


def test_bad_arguments():
    with pytest.raises(VolsegError, match="0 <= low < high <= 1"):
        image_stats(np.zeros((2, 2, 2)), low=0.5, high=0.5)
    with pytest.raises(VolsegError, match="normalize mode must be one of"):
        normalize(np.zeros((1, 1, 1)), {}, mode="minmax")
