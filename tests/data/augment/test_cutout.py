"""Cutout fills boxes of the image with its mean; labels and mask stay."""

import numpy as np

from tests.data.augment.common import block_volume, rng
from volseg.data.augment.cutout import Cutout


def test_prob_zero_is_identity():
    image, labels, mask = block_volume()
    out = Cutout(0.0, 2, [0.5, 0.5, 0.5])(image, labels, mask, rng())
    assert out[0] is image and out[1] is labels and out[2] is mask


def test_one_box_within_the_size_fraction():
    image, labels, mask = block_volume((12, 40, 48))
    fractions = [0.5, 0.25, 0.25]
    for seed in range(10):
        img, lab, msk = Cutout(1.0, 1, fractions)(image, labels, mask, rng(seed))
        changed = img != image
        assert lab is labels and msk is mask
        assert img.dtype == np.float32
        zs, ys, xs = np.nonzero(changed)
        if zs.size:  # the box may by chance sit on voxels equal to the mean: none here
            extent = [a.max() - a.min() + 1 for a in (zs, ys, xs)]
            assert all(e <= f * n for e, f, n in zip(extent, fractions, image.shape, strict=True))
            assert np.all(img[changed] == np.float32(image.mean(dtype=np.float64)))
    a = Cutout(1.0, 3, fractions)(image, labels, mask, rng(4))[0]
    np.testing.assert_array_equal(a, Cutout(1.0, 3, fractions)(image, labels, mask, rng(4))[0])
