import itertools
from collections import Counter

import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.io.pyramid import downsample, downsample_mean, downsample_mode, plan_factors


def test_plan_for_anisotropic_em_halves_fine_axes_first():
    assert plan_factors((20, 130, 140), (40, 4, 4), levels=None) == [(1, 2, 2), (1, 2, 2)]
    big = plan_factors((200, 4096, 4096), (40, 4, 4), levels=None)
    assert big == [(1, 2, 2), (1, 2, 2), (1, 2, 2), (2, 2, 2)]  # 5 levels at most


def test_plan_for_isotropic_and_small_volumes():
    assert plan_factors((256, 256, 256), (8, 8, 8), levels=None) == [(2, 2, 2)] * 3
    assert plan_factors((63, 500, 500), (5, 5, 5), levels=None) == []
    assert plan_factors((4, 4, 4), (1, 1, 1), levels=3) == [(2, 2, 2)] * 2
    assert plan_factors((300, 300, 300), (1, 1, 1), levels=1) == []


@pytest.mark.parametrize(
    ("levels", "message"), [(4, "cannot make 4 pyramid levels"), (0, "positive integer")]
)
def test_plan_errors(levels, message):
    with pytest.raises(VolsegError, match=message):
        plan_factors((4, 4, 4), (1, 1, 1), levels=levels)


def _reference(data, factors, reduce):
    """Slow reference: every output voxel from its block, edge voxels replicated past the end."""
    out_shape = tuple(-(-n // f) for n, f in zip(data.shape, factors, strict=True))
    out = np.zeros(out_shape, dtype=np.float64 if reduce == "mean" else data.dtype)
    for index in np.ndindex(*out_shape):
        ranges = [
            [min(i * f + d, n - 1) for d in range(f)]
            for i, f, n in zip(index, factors, data.shape, strict=True)
        ]
        values = [data[p] for p in itertools.product(*ranges)]
        if reduce == "mean":
            out[index] = np.mean(values)
        else:
            counts = Counter(values)
            best = max(counts.values())
            out[index] = min(v for v, c in counts.items() if c == best)
    return out


@pytest.mark.parametrize("factors", [(2, 2, 2), (1, 2, 2), (2, 1, 2)])
def test_mean_matches_reference_on_odd_shapes(factors):
    rng = np.random.default_rng(1)
    data = rng.integers(0, 255, (5, 7, 6)).astype(np.uint8)
    expected = np.rint(_reference(data, factors, "mean")).astype(np.uint8)
    np.testing.assert_array_equal(downsample_mean(data, factors), expected)
    floats = rng.random((5, 7, 6)).astype(np.float32)
    result = downsample(floats, factors, method="mean")
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, _reference(floats, factors, "mean"), rtol=1e-6)


@pytest.mark.parametrize("factors", [(2, 2, 2), (1, 2, 2), (1, 1, 2, 2)])
def test_mode_matches_reference_and_never_invents_ids(factors):
    rng = np.random.default_rng(2)
    shape = (5, 7, 9) if len(factors) == 3 else (2, 5, 7, 9)
    ids = np.array([0, 7, 2**33 + 5, 123456], np.uint64)
    data = ids[rng.integers(0, len(ids), shape)]
    result = downsample_mode(data, factors)
    np.testing.assert_array_equal(result, _reference(data, factors, "mode"))
    assert result.dtype == np.uint64 and set(np.unique(result)) <= set(ids.tolist())


def test_mode_ties_go_to_the_smallest_value():
    block = np.array([[[5, 3], [5, 3]], [[9, 9], [3, 5]]], np.uint32)  # 5: 3x, 3: 3x, 9: 2x
    assert downsample(block, (2, 2, 2), method="mode").item() == 3
    mask = np.array([[[True, False], [True, True]], [[False, False], [False, True]]])
    assert not downsample_mode(mask, (2, 2, 2)).item()  # 4 vs 4: False
    mask[1, 0, 0] = True
    assert downsample_mode(mask, (2, 2, 2)).item()  # 5 vs 3: True
