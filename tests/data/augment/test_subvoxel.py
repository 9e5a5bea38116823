"""Sub-voxel shift moves the image by a fraction of a voxel; labels and mask keep their grid."""

import numpy as np
import pytest

from tests.data.augment.common import block_volume, rng
from volseg.data.augment.subvoxel import SubvoxelShift


def ramps(shape=(6, 20, 24)):
    """image = 100 z + 10 y + x: a linear shift of it is the same plane moved, exactly."""
    z, y, x = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    _, labels, mask = block_volume(shape, (2, 4, 4))
    return (100 * z + 10 * y + x).astype(np.float32), labels, mask


def test_prob_zero_and_zero_shift_are_identity():
    image, labels, mask = ramps()
    out = SubvoxelShift(0.0, [0.5, 0.5, 0.5])(image, labels, mask, rng())
    assert out[0] is image and out[1] is labels and out[2] is mask
    out = SubvoxelShift(1.0, [0.0, 0.0, 0.0])(image, labels, mask, rng())
    assert out[0] is image


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("axis", [1, 2])
def test_linear_image_moves_by_the_drawn_fraction(seed, axis):
    image, labels, mask = ramps()
    m = [0.0, 0.0, 0.0]
    m[axis] = 0.4
    img, lab, msk = SubvoxelShift(1.0, m)(image, labels, mask, rng(seed))
    assert lab is labels and msk is mask and img.dtype == np.float32
    # interior voxels: out = image - shift * slope of the ramp along the axis; nothing else moved
    diff = (image - img)[:, 1:-1, 1:-1] / (10.0 if axis == 1 else 1.0)
    assert np.allclose(diff, diff.flat[0], atol=1e-4)
    assert 0 < abs(float(diff.flat[0])) <= 0.4 + 1e-5


def test_reproducible_from_the_generator_and_single_slices_keep_z():
    image, labels, mask = ramps()
    a = SubvoxelShift(1.0, [0.5, 0.5, 0.5])(image, labels, mask, rng(3))[0]
    b = SubvoxelShift(1.0, [0.5, 0.5, 0.5])(image, labels, mask, rng(3))[0]
    np.testing.assert_array_equal(a, b)
    one = image[:1]
    out = SubvoxelShift(1.0, [0.5, 0.0, 0.0])(one, labels[:1], mask[:1], rng(3))[0]
    assert out is one  # z is one slice (a 2D patch): nothing to interpolate along
