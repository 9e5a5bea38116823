"""Flips and 90-degree rotations keep image, labels and mask together."""

import numpy as np

from tests.data.augment.common import block_volume, check_aligned, rng
from volseg.data.augment.flip import Flip, Rotate90


def test_prob_zero_is_identity():
    image, labels, mask = block_volume()
    for t in (Flip(0.0), Rotate90(0.0)):
        out = t(image, labels, mask, rng())
        assert out[0] is image and out[1] is labels and out[2] is mask


def test_flip_prob_one_flips_every_listed_axis():
    image, labels, mask = block_volume()
    img, lab, msk = Flip(1.0, (0, 2))(image, labels, mask, rng())
    np.testing.assert_array_equal(lab, labels[::-1, :, ::-1])
    np.testing.assert_array_equal(img, image[::-1, :, ::-1])
    np.testing.assert_array_equal(msk, mask[::-1, :, ::-1])
    check_aligned(img, lab, msk, np.unique(labels))


def test_flip_is_deterministic_and_random():
    image, labels, mask = block_volume()
    flip = Flip(0.5)
    a = flip(image, labels, mask, rng(7))[1]
    np.testing.assert_array_equal(a, flip(image, labels, mask, rng(7))[1])
    seen = {flip(image, labels, mask, rng(s))[1].tobytes() for s in range(40)}
    assert len(seen) == 8  # every subset of the three axes


def test_rotate90_square_plane_uses_all_quarter_turns():
    image, labels, mask = block_volume((8, 32, 32), (4, 8, 8))
    rot = Rotate90(1.0, (1, 2))
    found = set()
    for seed in range(30):
        img, lab, msk = rot(image, labels, mask, rng(seed))
        k = next(k for k in (1, 2, 3) if np.array_equal(lab, np.rot90(labels, k, (1, 2))))
        np.testing.assert_array_equal(img, np.rot90(image, k, (1, 2)))
        np.testing.assert_array_equal(msk, np.rot90(mask, k, (1, 2)))
        found.add(k)
    assert found == {1, 2, 3}


def test_rotate90_non_square_plane_turns_180_degrees():
    image, labels, mask = block_volume((8, 32, 40), (4, 8, 8))
    img, lab, msk = Rotate90(1.0, (1, 2))(image, labels, mask, rng())
    assert lab.shape == labels.shape
    np.testing.assert_array_equal(lab, np.rot90(labels, 2, (1, 2)))
    check_aligned(img, lab, msk, np.unique(labels))
