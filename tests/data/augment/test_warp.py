"""The fused warp kernel against scipy.ndimage (image) and an index-arithmetic reference
(labels and mask)."""

import numpy as np
import pytest
from scipy import ndimage

from volseg.data.augment._warp import centred, warp


def fold(index, n):
    """Half-sample symmetric reflection, written the slow obvious way."""
    out = index.copy()
    for _ in range(10):
        out = np.where(out < 0, -1 - out, out)
        out = np.where(out >= n, 2 * n - 1 - out, out)
    return out


def positions(matrix, disp, shape):
    grid = np.indices(shape, dtype=np.float64)
    pos = np.einsum("ij,j...->i...", matrix[:, :3], grid) + matrix[:, 3][:, None, None, None]
    return pos if disp is None else pos + disp


@pytest.mark.parametrize("with_disp", [False, True])
def test_matches_scipy_and_nearest_reference(with_disp):
    rng = np.random.default_rng(3)
    shape = (7, 19, 23)
    image = rng.random(shape, dtype=np.float32)
    # ids above 2**53: a float64 order-0 path would merge them
    labels = (rng.integers(0, 50, shape) + 2**60).astype(np.uint64)
    mask = rng.random(shape) < 0.5
    rot = np.array([[1.3, 0.1, 0.0], [0.2, 0.9, -0.4], [0.0, 0.4, 1.1]])
    matrix = centred(rot, shape)
    matrix[:, 3] += [0.3, -9.0, 30.0]  # reach past the borders on both sides
    disp = rng.normal(0, 2.0, (3, *shape)).astype(np.float32) if with_disp else None
    img, lab, msk = warp(image, labels, mask, matrix=matrix, displacement=disp)
    pos = positions(matrix, disp, shape)
    ref = ndimage.map_coordinates(image, pos, order=1, mode="reflect")
    np.testing.assert_allclose(img, ref, atol=1e-5)
    idx = tuple(fold(np.floor(p + 0.5).astype(int), n) for p, n in zip(pos, shape, strict=True))
    np.testing.assert_array_equal(lab, labels[idx])
    np.testing.assert_array_equal(msk, mask[idx])
    assert img.dtype == np.float32 and lab.dtype == np.uint64 and msk.dtype == bool


def test_identity_and_integer_shift():
    rng = np.random.default_rng(0)
    image = rng.random((4, 6, 8), dtype=np.float32)
    labels = rng.integers(0, 9, (4, 6, 8)).astype(np.uint16)
    mask = labels > 2
    out = warp(image, labels, mask)
    for a, b in zip(out, (image, labels, mask), strict=True):
        np.testing.assert_array_equal(a, b)
    shift = np.array([[1.0, 0, 0, 0], [0, 1, 0, 2], [0, 0, 1, -1]])
    img, lab, _ = warp(image, labels, mask, matrix=shift)
    np.testing.assert_array_equal(img[:, :4, 1:], image[:, 2:, :-1])
    np.testing.assert_array_equal(lab[:, :4, 1:], labels[:, 2:, :-1])
    np.testing.assert_array_equal(lab[:, 4:, 1:], labels[:, 5:3:-1, :-1])  # reflected rows
