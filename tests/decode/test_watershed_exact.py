"""Property tests: volseg's watershed against skimage.segmentation.watershed on random inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi
from skimage.segmentation import watershed as sk_watershed

from volseg.decode import watershed
from volseg.decode.watershed import quantise_height


@st.composite
def flood_case(draw, *, levels=None):
    """Random 2D/3D shape, connectivity, markers (several voxels per label) and mask."""
    ndim = draw(st.sampled_from([2, 3]))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    k = int(rng.integers(1, min(n, 8) + 1))
    markers = np.zeros(n, np.int32)
    markers[rng.choice(n, size=k, replace=False)] = rng.integers(1, 5, size=k)
    markers = markers.reshape(shape)
    mask = (rng.random(shape) < 0.8) if draw(st.booleans()) else None
    connectivity = draw(st.integers(1, ndim))
    return shape, rng, markers, mask, connectivity


@settings(max_examples=150, deadline=None)
@given(
    case=flood_case(),
    dtype=st.sampled_from([np.float32, np.float64]),
    offset=st.sampled_from([-3.0, -0.5, 0.0, 3.0]),
)
def test_exact_mode_equals_skimage_without_ties(case, dtype, offset):
    shape, rng, markers, mask, connectivity = case
    n = int(np.prod(shape))
    # a random permutation: every height distinct; the offset makes all-negative, mixed and
    # all-positive maps (the sortable keys of positive floats have the top bit set)
    height = (offset + rng.permutation(n) / n).reshape(shape).astype(dtype)
    expected = sk_watershed(height, markers, mask=mask, connectivity=connectivity)
    got = watershed(height, markers, mask=mask, connectivity=connectivity)
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=150, deadline=None)
@given(case=flood_case(), dtype=st.sampled_from([np.uint8, np.uint16]))
def test_fast_mode_equals_skimage_when_marker_heights_differ(case, dtype):
    # The bucket queue reproduces skimage's (height, age) order exactly; the only freedom left
    # is the order of markers of equal height (skimage: heap layout, here: raster order).
    shape, rng, markers, mask, connectivity = case
    height = rng.integers(20, 24, size=shape).astype(dtype)  # many ties and plateaus
    where = np.flatnonzero(markers)
    height.flat[where] = rng.permutation(20)[: where.size]
    expected = sk_watershed(height, markers, mask=mask, connectivity=connectivity)
    got = watershed(height, markers, mask=mask, connectivity=connectivity)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(case=flood_case())
def test_exact_mode_on_integer_heights_equals_skimage_when_marker_heights_differ(case):
    shape, rng, markers, mask, connectivity = case
    height = rng.integers(0, 3, size=shape).astype(np.uint8)
    where = np.flatnonzero(markers)
    height.flat[where] = 10 + rng.permutation(20)[: where.size]
    expected = sk_watershed(height, markers, mask=mask, connectivity=connectivity)
    got = watershed(height, markers, mask=mask, connectivity=connectivity, mode="exact")
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_mode_with_heavy_ties_equals_skimage_when_marker_heights_differ(dtype):
    # four distinct heights: buckets of thousands of equal keys, sorted by merging runs
    rng = np.random.default_rng(0)
    height = np.round(rng.random((12, 40, 40)) * 3).astype(dtype)
    markers = np.zeros(height.shape, np.int32)
    where = rng.choice(height.size, 30, replace=False)
    markers.flat[where] = np.arange(1, 31)
    height.flat[where] = -np.arange(1.0, 31.0)
    for connectivity in (1, 3):
        expected = sk_watershed(height, markers, connectivity=connectivity)
        np.testing.assert_array_equal(
            watershed(height, markers, connectivity=connectivity), expected
        )


def _smooth_case(shape, seed, n_seeds):
    rng = np.random.default_rng(seed)
    height = ndi.gaussian_filter(rng.random(shape), 2.0)
    markers = np.zeros(shape, np.int32)
    flat = rng.choice(height.size, size=n_seeds, replace=False)
    markers.flat[flat] = np.arange(1, n_seeds + 1)
    return height.astype(np.float32), markers


@pytest.mark.parametrize("connectivity", [1, 3])
@pytest.mark.parametrize("levels", [256, 65536])
def test_fast_mode_on_quantised_smooth_map_agrees_with_skimage(connectivity, levels):
    height, markers = _smooth_case((24, 48, 48), seed=3, n_seeds=40)
    # markers as 3x3x3 blocks so that many marker voxels share a level (equal-height markers)
    markers = ndi.grey_dilation(markers, size=(3, 3, 3))
    q = quantise_height(height, levels=levels)
    expected = sk_watershed(q, markers, connectivity=connectivity)
    got = watershed(height, markers, connectivity=connectivity, mode="fast", levels=levels)
    np.testing.assert_array_equal(got, watershed(q, markers, connectivity=connectivity))
    assert (got == expected).mean() >= 0.999


def test_exact_mode_on_smooth_float_map_equals_skimage():
    height, markers = _smooth_case((24, 48, 48), seed=4, n_seeds=40)
    markers = ndi.grey_dilation(markers, size=(1, 3, 3))
    for connectivity in (1, 2, 3):
        expected = sk_watershed(height, markers, connectivity=connectivity)
        got = watershed(height, markers, connectivity=connectivity)
        np.testing.assert_array_equal(got, expected)


def test_signed_zero_and_infinities_order_like_skimage():
    height = np.array(
        [
            [0.0, -0.0, 0.0, -0.0, 5.0],
            [np.inf, 0.0, -np.inf, 1.0, -0.0],
            [2.0, -0.0, 0.0, 3.0, 0.0],
        ],
        np.float32,
    )
    markers = np.zeros(height.shape, np.int32)
    markers[0, 4] = 1
    markers[2, 0] = 2
    for connectivity in (1, 2):
        expected = sk_watershed(height, markers, connectivity=connectivity)
        np.testing.assert_array_equal(
            watershed(height, markers, connectivity=connectivity), expected
        )
