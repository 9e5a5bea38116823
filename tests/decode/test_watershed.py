"""watershed(): seeding, mask semantics, dtypes, quantisation and every bad-input path."""

import cc3d
import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.morphology import h_minima
from skimage.segmentation import watershed as sk_watershed

from volseg.decode import watershed
from volseg.decode._neighbours import neighbour_offsets, padded_shape
from volseg.decode.watershed import quantise_height
from volseg.errors import VolsegError


def _two_basins(shape=(6, 20, 30)):
    """Two bowls (minima at x=7 and x=22) separated by a ridge at x=15."""
    x = np.arange(shape[-1], dtype=np.float32)
    profile = np.minimum(np.abs(x - 7), np.abs(x - 22)) + 0.01 * x
    return np.broadcast_to(profile, shape).copy()


def test_two_basins_split_at_ridge():
    height = _two_basins()
    markers = np.zeros(height.shape, np.int64)
    markers[:, :, 7] = 5
    markers[:, :, 22] = 9
    out = watershed(height, markers)
    assert out.dtype == np.uint32
    assert (out[..., :15] == 5).all()
    assert (out[..., 16:] == 9).all()
    np.testing.assert_array_equal(out, sk_watershed(height, markers))


@pytest.mark.parametrize("ndim", [2, 3])
def test_neighbour_offsets_follow_skimage_order(ndim):
    from skimage.morphology._util import _offsets_to_raveled_neighbors

    shape = (5, 6, 7)[-ndim:]
    work = padded_shape(shape)
    padded = tuple(s + 2 for s in shape)
    for connectivity in range(1, ndim + 1):
        footprint = ndi.generate_binary_structure(ndim, connectivity)
        ref = _offsets_to_raveled_neighbors(padded, footprint, (1,) * ndim)
        np.testing.assert_array_equal(neighbour_offsets(ndim, connectivity, work), ref)


def test_mask_outside_stays_zero_and_markers_there_are_ignored():
    rng = np.random.default_rng(0)
    height = rng.random((8, 16, 16)).astype(np.float32)
    mask = np.ones(height.shape, bool)
    mask[:, :, 8] = False  # wall: the right half has no marker inside the mask
    markers = np.zeros(height.shape, np.int32)
    markers[4, 8, 2] = 1
    markers[4, 8, 8] = 2  # on the wall: ignored
    out = watershed(height, markers, mask=mask)
    assert (out[~mask] == 0).all()
    assert (out[:, :, :8] == 1).all()
    assert (out[:, :, 9:] == 0).all()  # unreachable inside the mask
    np.testing.assert_array_equal(out, sk_watershed(height, markers, mask=mask))


def test_integer_mask_is_accepted_like_bool():
    height = _two_basins()
    markers = np.zeros(height.shape, np.int32)
    markers[0, 0, 7] = 1
    mask = np.ones(height.shape, np.uint8)
    mask[:, :, :3] = 0
    np.testing.assert_array_equal(
        watershed(height, markers, mask=mask), watershed(height, markers, mask=mask > 0)
    )


def test_threshold_seeds_are_components_below_threshold():
    height = _two_basins()
    out = watershed(height, threshold=1.5)
    seeds = cc3d.connected_components(height < 1.5, connectivity=6)
    assert seeds.max() == 2
    np.testing.assert_array_equal(out, sk_watershed(height, seeds))


def test_threshold_seeds_respect_mask_and_connectivity_in_2d():
    height = np.ones((5, 5), np.float32)
    height[1, 1] = height[2, 2] = 0  # diagonal neighbours: one seed with connectivity 2
    one = watershed(height, threshold=0.5, connectivity=2)
    two = watershed(height, threshold=0.5, connectivity=1)
    assert set(np.unique(one)) == {1}
    assert set(np.unique(two)) == {1, 2}
    mask = np.ones((5, 5), bool)
    mask[2, 2] = False
    assert set(np.unique(watershed(height, threshold=0.5, mask=mask))) == {0, 1}


def test_h_minima_seeds_keep_only_deep_minima():
    height = _two_basins((4, 10, 30))
    height[:, :, 26] -= 0.5  # shallow extra dip inside the right bowl's slope: not a seed at h=1
    footprint = ndi.generate_binary_structure(3, 1)
    seeds = cc3d.connected_components(h_minima(height, 1.0, footprint=footprint) > 0, 6)
    assert seeds.max() == 2
    out = watershed(height, h=1.0)
    np.testing.assert_array_equal(out, sk_watershed(height, seeds))


def test_min_seed_size_drops_small_marker_ids():
    height = _two_basins()
    markers = np.zeros(height.shape, np.int32)
    markers[:, :, 7] = 1  # 120 voxels
    markers[0, 0, 22] = 2  # 1 voxel
    out = watershed(height, markers, min_seed_size=2)
    assert set(np.unique(out)) == {1}
    kept = watershed(height, markers, min_seed_size=1)
    assert set(np.unique(kept)) == {1, 2}


def test_min_seed_size_counts_only_voxels_inside_mask():
    height = _two_basins()
    markers = np.zeros(height.shape, np.int32)
    markers[:, :, 7] = 1
    markers[:, :, 22] = 2
    mask = np.ones(height.shape, bool)
    mask[:, 1:, 22] = False  # label 2 keeps 6 voxels inside the mask
    assert 2 in watershed(height, markers, mask=mask, min_seed_size=6)
    assert 2 not in watershed(height, markers, mask=mask, min_seed_size=7)


def test_large_ids_give_uint64_and_out_dtype_is_honoured():
    height = _two_basins()
    markers = np.zeros(height.shape, np.uint64)
    markers[:, :, 7] = 2**40
    markers[:, :, 22] = 3
    out = watershed(height, markers)
    assert out.dtype == np.uint64
    assert set(np.unique(out)) == {3, 2**40}
    small = np.where(markers == 2**40, 7, markers)
    assert watershed(height, small, out_dtype="uint64").dtype == np.uint64
    assert watershed(height.astype(np.uint8), markers, mode="fast").dtype == np.uint64


def test_ids_between_2_31_and_2_32_stay_uint32():
    height = _two_basins()
    markers = np.zeros(height.shape, np.uint32)
    markers[:, :, 7] = 2**32 - 1
    out = watershed(height.astype(np.uint8), markers)
    assert out.dtype == np.uint32
    assert (out[..., :15] == 2**32 - 1).all()


def test_big_endian_and_fortran_order_inputs():
    height = _two_basins()
    markers = np.zeros(height.shape, np.int32)
    markers[:, :, 7] = 1
    markers[:, :, 22] = 2
    expected = watershed(height, markers)
    swapped = height.astype(">f4")
    np.testing.assert_array_equal(watershed(swapped, markers.astype(">i8")), expected)
    np.testing.assert_array_equal(
        watershed(np.asfortranarray(height), np.asfortranarray(markers)), expected
    )


def test_empty_mask_and_no_markers_give_zeros():
    height = _two_basins()
    markers = np.zeros(height.shape, np.int32)
    assert not watershed(height, markers).any()
    markers[0, 0, 0] = 1
    assert not watershed(height, markers, mask=np.zeros(height.shape, bool)).any()
    assert not watershed(height.astype(np.uint8), markers, mask=np.zeros(height.shape, bool)).any()


def test_nan_outside_mask_is_fine():
    height = _two_basins()
    height[:, :, 0] = np.nan
    markers = np.zeros(height.shape, np.int32)
    markers[:, :, 7] = 1
    mask = np.isfinite(height)
    for mode in ("exact", "fast"):
        out = watershed(height, markers, mask=mask, mode=mode)
        assert (out[:, :, 0] == 0).all() and (out[:, :, 1:] == 1).all()


def test_quantise_height_maps_range_linearly():
    height = np.array([[2.0, 2.5, 3.0, 2.001]], np.float32)
    q = quantise_height(height)
    assert q.dtype == np.uint8
    np.testing.assert_array_equal(q, np.floor((height - 2.0) * 255 + 0.5).astype(np.uint8))
    q16 = quantise_height(height, levels=65536)
    assert q16.dtype == np.uint16 and q16.max() == 65535 and q16.min() == 0
    mask = np.array([[False, True, True, True]])
    np.testing.assert_array_equal(quantise_height(height, mask=mask), [[0, 127, 255, 0]])
    assert not quantise_height(np.full((2, 2), 7.0)).any()


def test_fast_mode_on_floats_floods_the_quantised_heights():
    rng = np.random.default_rng(1)
    height = ndi.gaussian_filter(rng.random((10, 30, 30)), 1.5)
    markers = np.zeros(height.shape, np.int32)
    markers.flat[rng.choice(height.size, 12, replace=False)] = np.arange(1, 13)
    fast = watershed(height, markers, mode="fast")
    np.testing.assert_array_equal(fast, watershed(quantise_height(height), markers))
    assert watershed(height, markers, mode="fast", levels=65536).dtype == np.uint32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"markers": np.zeros((3, 4), np.int32)}, "markers has shape"),
        ({"markers": np.zeros((4, 4), np.float32)}, "integer labels"),
        ({"markers": np.zeros((4, 4), bool)}, "integer labels"),
        ({"markers": -np.ones((4, 4), np.int32)}, ">= 0"),
        ({"markers": np.ones((4, 4), np.int32), "mask": np.ones((4, 5), bool)}, "mask has shape"),
        ({"markers": np.ones((4, 4), np.int32), "mask": np.ones((4, 4))}, "mask must be boolean"),
        ({}, "exactly one seeding source"),
        ({"markers": np.ones((4, 4), np.int32), "h": 0.1}, "markers and h"),
        ({"h": 0.1, "threshold": 0.5}, "h and threshold"),
        ({"h": 0.0}, "h must be a positive number"),
        ({"h": "deep"}, "h must be a positive number"),
        ({"threshold": np.nan}, "threshold must be a finite number"),
        ({"threshold": [0.5]}, "threshold must be a finite number"),
        ({"threshold": 0.5, "connectivity": 3}, "connectivity must be an integer from 1 to 2"),
        ({"threshold": 0.5, "connectivity": 0}, "connectivity must be"),
        ({"threshold": 0.5, "connectivity": 1.0}, "connectivity must be"),
        ({"threshold": 0.5, "mode": "quick"}, "mode must be"),
        ({"threshold": 0.5, "mode": "fast", "levels": 100}, "levels must be 256 or 65536"),
        ({"threshold": 0.5, "levels": 255}, "levels must be 256 or 65536"),
        ({"threshold": 0.5, "min_seed_size": -1}, "min_seed_size must be >= 0"),
        ({"threshold": 0.5, "out_dtype": "int32"}, "out_dtype must be uint32 or uint64"),
        ({"threshold": 0.5, "out_dtype": "banana"}, "out_dtype must be uint32 or uint64"),
        ({"markers": np.full((4, 4), 2**33), "out_dtype": np.uint32}, "does not fit"),
        ({"markers": np.full((4, 4), 2**63, np.uint64)}, "too large"),
    ],
)
def test_bad_input_raises_one_clear_error(kwargs, match):
    height = np.linspace(0, 1, 16, dtype=np.float32).reshape(4, 4)
    with pytest.raises(VolsegError, match=match):
        watershed(height, **kwargs)


@pytest.mark.parametrize(
    ("height", "match"),
    [
        (np.zeros(5, np.float32), "2D"),
        (np.zeros((2, 2, 2, 2), np.float32), "2D"),
        (np.zeros((4, 4), np.int32), "float32/float64 or uint8/uint16"),
        (np.zeros((4, 4), np.float16), "float32/float64 or uint8/uint16"),
        (np.zeros((4, 4), bool), "float32/float64 or uint8/uint16"),
    ],
)
def test_bad_height_raises(height, match):
    with pytest.raises(VolsegError, match=match):
        watershed(height, np.ones(height.shape, np.int32))


@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_nan_inside_mask_raises(mode):
    height = np.zeros((3, 4, 4), np.float32)
    height[1, 2, 3] = np.nan
    markers = np.ones(height.shape, np.int32)
    with pytest.raises(VolsegError, match="NaN"):
        watershed(height, markers, mode=mode)
    with pytest.raises(VolsegError, match="NaN"):
        watershed(height.astype(np.float64), markers, mode=mode)


def test_infinite_heights_cannot_be_quantised():
    height = np.zeros((4, 4), np.float32)
    height[0, 0] = np.inf
    with pytest.raises(VolsegError, match="finite"):
        watershed(height, np.ones((4, 4), np.int32), mode="fast")
    np.testing.assert_array_equal(watershed(height, np.ones((4, 4), np.int32)), np.ones((4, 4)))
