"""Affine warps in physical space, nearest labels, aligned outputs."""

import numpy as np

from tests.data.augment.common import block_volume, check_aligned, rng
from volseg.data.augment.affine import Affine, affine_matrix

ANISO = (30.0, 8.0, 8.0)


def make(prob=1.0, rotate=(0.3, 0.0, 0.0), scale=(0.1, 0.1, 0.1), shear=(0.0, 0.05, 0.05)):
    return Affine(prob, rotate, scale, shear, ANISO)


def test_prob_zero_is_identity():
    image, labels, mask = block_volume()
    out = make(prob=0.0)(image, labels, mask, rng())
    assert out[0] is image and out[1] is labels and out[2] is mask


def test_prob_one_warps_and_keeps_alignment_dtype_and_ids():
    image, labels, mask = block_volume(dtype=np.uint64)
    for seed in range(3):
        img, lab, msk = make()(image, labels, mask, rng(seed))
        assert not np.array_equal(lab, labels)
        assert lab.dtype == np.uint64
        check_aligned(img, lab, msk, np.unique(labels))


def test_deterministic_from_rng():
    image, labels, mask = block_volume()
    a = make()(image, labels, mask, rng(5))
    b = make()(image, labels, mask, rng(5))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_rotation_is_rigid_in_nanometres():
    size = np.diag(ANISO)
    for angles in ([0.3, 0, 0], [0, 0.4, 0], [0.1, 0.2, -0.3]):
        m = affine_matrix(angles, [1, 1, 1], [0, 0, 0], ANISO)
        physical = size @ m @ np.linalg.inv(size)
        np.testing.assert_allclose(physical @ physical.T, np.eye(3), atol=1e-12)
    # a rotation about z never mixes z with the plane
    m = affine_matrix([0.3, 0, 0], [1, 1, 1], [0, 0, 0], ANISO)
    np.testing.assert_allclose(m[0], [1, 0, 0])
    np.testing.assert_allclose(m[:, 0], [1, 0, 0])


def test_scale_and_shear_entries():
    m = affine_matrix([0, 0, 0], [1.1, 0.9, 1.0], [0.0, 0.05, -0.02], (1, 1, 1))
    expected = np.array([[1.1, 0, 0], [0, 0.9, 0.05], [0, -0.02 * 0.9, 1.0]])
    np.testing.assert_allclose(m, expected)
