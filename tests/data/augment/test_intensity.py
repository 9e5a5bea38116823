"""Intensity changes touch the image only."""

import numpy as np

from tests.data.augment.common import block_volume, rng
from volseg.data.augment.intensity import Intensity


def make(prob=1.0, noise=0.0, shift=0.0, contrast=0.0):
    return Intensity(prob, noise, 0.1, shift, 0.2, contrast, [0.5, 1.5])


def test_prob_zero_is_identity():
    image, labels, mask = block_volume()
    out = make(prob=0.0, noise=1.0, shift=1.0, contrast=1.0)(image, labels, mask, rng())
    assert out[0] is image and out[1] is labels and out[2] is mask


def test_each_kind_alone():
    image, labels, mask = block_volume()
    image = image / image.max()
    before = image.copy()
    img, lab, msk = make(noise=1.0)(image, labels, mask, rng(1))
    assert 0.08 < (img - image).std() < 0.12 and abs((img - image).mean()) < 0.01
    img, _, _ = make(shift=1.0)(image, labels, mask, rng(2))
    delta = img - image
    assert np.allclose(delta, delta.flat[0], atol=1e-6) and 0 < abs(delta.flat[0]) <= 0.2
    img, _, _ = make(contrast=1.0)(image, labels, mask, rng(3))
    factor = (img - img.mean()) / (image - image.mean())
    ok = np.abs(image - image.mean()) > 0.1
    assert np.allclose(factor[ok], factor[ok][0], rtol=1e-3) and 0.5 <= factor[ok][0] <= 1.5
    np.testing.assert_array_equal(image, before)  # the input is never changed in place
    assert lab is labels and msk is mask


def test_deterministic_dtype_and_labels_untouched():
    image, labels, mask = block_volume()
    t = make(noise=0.5, shift=0.5, contrast=0.5)
    a = t(image, labels, mask, rng(9))
    b = t(image, labels, mask, rng(9))
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].dtype == np.float32 and a[0].shape == image.shape
    assert a[1] is labels and a[2] is mask
