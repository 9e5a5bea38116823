"""Elastic deformation: physical units, smooth spline field, aligned outputs."""

import numpy as np

from tests.data.augment.common import block_volume, check_aligned, rng
from volseg.data.augment.elastic import Elastic, _spline_matrix, displacement

ANISO = (30.0, 8.0, 8.0)


def test_prob_zero_is_identity():
    image, labels, mask = block_volume()
    out = Elastic(0.0, [120, 320, 320], [0, 16, 16], ANISO)(image, labels, mask, rng())
    assert out[0] is image and out[1] is labels and out[2] is mask


def test_prob_one_deforms_and_keeps_alignment():
    image, labels, mask = block_volume((12, 64, 64), (4, 8, 8))
    elastic = Elastic(1.0, [120, 160, 160], [0, 24, 24], ANISO)
    img, lab, msk = elastic(image, labels, mask, rng(1))
    assert not np.array_equal(lab, labels)
    check_aligned(img, lab, msk, np.unique(labels))
    again = elastic(image, labels, mask, rng(1))
    np.testing.assert_array_equal(again[0], img)
    # z jitter 0: no section moves along z, so every id stays in its own z-slab
    np.testing.assert_array_equal((lab - 1) // (8 * 8), (labels - 1) // (8 * 8))


def test_spline_passes_through_control_points():
    w = _spline_matrix(13, 4)  # control points at voxels 0, 4, 8, 12
    np.testing.assert_allclose(w[[0, 4, 8, 12]], np.eye(4), atol=1e-6)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)


def test_displacement_is_in_nanometres():
    shape = (16, 64, 64)
    fields = [
        displacement(
            shape, spacing_nm=[60, 64, 64], sigma_nm=[30, 16, 0], voxel_size=ANISO, rng=rng(s)
        )
        for s in range(40)
    ]
    d = np.stack(fields)
    assert np.all(d[:, 2] == 0)  # sigma 0 on x
    # at control points the field is the control value: std sigma_nm / voxel_size voxels
    knots_z = np.linspace(0, 15, 9).round().astype(int)
    std_z = d[:, 0][:, knots_z][:, :, ::8, ::8].std()
    std_y = d[:, 1][:, knots_z][:, :, ::8, ::8].std()
    assert 0.85 < std_z / (30 / 30) < 1.15
    assert 0.85 < std_y / (16 / 8) < 1.15
