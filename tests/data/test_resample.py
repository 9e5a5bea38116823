"""Area / linear image resampling and nearest label resampling."""

import numpy as np
import pytest
from scipy import ndimage

from volseg.data.resample import data_extent, resample_image, resample_nearest
from volseg.errors import VolsegError


def test_data_extent():
    assert data_extent((32, 128, 128), (30, 8, 8), None) == (32, 128, 128)
    assert data_extent((1, 192, 192), (5, 5, 5), (10, 10, 10)) == (2, 384, 384)
    assert data_extent((4, 10, 10), (8, 8, 8), (10, 10, 10)) == (5, 12, 12)  # round(12.5) = 12
    assert data_extent((1, 4, 4), (30, 8, 8), (10, 8, 8)) == (1, 4, 4)  # never below 1


def test_whole_factors_take_block_means():
    rng = np.random.default_rng(0)
    image = rng.random((4, 12, 18)).astype(np.float32)
    out = resample_image(image, (2, 6, 6))
    expected = image.reshape(2, 2, 6, 2, 6, 3).mean(axis=(1, 3, 5))
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32
    big = rng.random((2, 40, 40)).astype(np.float32)  # 2 x 10 x 10 = 200 offsets: reshape path
    np.testing.assert_allclose(
        resample_image(big, (1, 4, 4)),
        big.reshape(1, 2, 4, 10, 4, 10).mean(axis=(1, 3, 5)),
        rtol=1e-5,
    )


def test_other_factors_interpolate_at_pixel_centres():
    image = np.arange(10, dtype=np.float32)[None, None, :].repeat(2, 0).repeat(3, 1)
    out = resample_image(image, (2, 3, 4))
    # output voxel i sits at input (i + 0.5) * 10 / 4 - 0.5
    np.testing.assert_allclose(out[0, 0], [0.75, 3.25, 5.75, 8.25], atol=1e-5)
    up = resample_image(image, (2, 3, 20))
    ref = ndimage.zoom(image, (1, 1, 2), order=1, mode="nearest", grid_mode=True)
    np.testing.assert_allclose(up, ref, atol=1e-6)


def test_nearest_takes_the_voxel_under_each_centre():
    labels = np.arange(2 * 6 * 9, dtype=np.uint64).reshape(2, 6, 9) + 2**60
    out = resample_nearest(labels, (1, 3, 3))
    np.testing.assert_array_equal(out, labels[1::2, 1::2, 1::3])
    assert out.dtype == np.uint64
    mask = np.zeros((2, 4, 4), bool)
    mask[:, 1::2, 1::2] = True
    assert resample_nearest(mask, (1, 2, 2)).all()
    assert resample_nearest(labels, (4, 12, 18)).shape == (4, 12, 18)  # upsampling
    np.testing.assert_array_equal(resample_nearest(labels, (4, 12, 18))[::2, ::2, ::2], labels)
    assert resample_nearest(labels, labels.shape) is labels


def test_bad_shapes():
    with pytest.raises(VolsegError, match="3-entry positive shape"):
        resample_image(np.zeros((2, 2, 2)), (0, 1, 1))
    with pytest.raises(VolsegError, match=r"\(z, y, x\) array"):
        resample_nearest(np.zeros((2, 2)), (1, 1, 1))
