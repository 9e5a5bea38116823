"""EM artefacts: misalignment moves everything together; missing sections and motion blur change
the image only."""

import numpy as np
import pytest

from tests.data.augment.common import block_volume, check_aligned, rng
from volseg.data.augment.artefacts import Misalignment, MissingSection, MotionBlur, line_kernel


@pytest.mark.parametrize(
    "t", [Misalignment(0.0, 8, 0.5), MissingSection(0.0, 2), MotionBlur(0.0, 2, 5)]
)
def test_prob_zero_is_identity(t):
    image, labels, mask = block_volume()
    out = t(image, labels, mask, rng())
    assert out[0] is image and out[1] is labels and out[2] is mask


@pytest.mark.parametrize("rotate", [0.0, 1.0])
def test_misalignment_moves_sections_together(rotate):
    image, labels, mask = block_volume((12, 48, 48), (4, 8, 8))
    moved_any = False
    for seed in range(6):
        img, lab, msk = Misalignment(1.0, 6, rotate)(image, labels, mask, rng(seed))
        check_aligned(img, lab, msk, np.unique(labels))
        assert lab.dtype == labels.dtype
        changed = np.nonzero((lab != labels).any(axis=(1, 2)))[0]
        if changed.size:
            moved_any = True
            assert changed.min() >= 1  # section 0 never moves
            # ids stay in their own z-slab: only in-plane motion
            np.testing.assert_array_equal((lab - 1) // 36, (labels - 1) // 36)
    assert moved_any


def test_misalignment_shift_is_at_most_displacement():
    image, labels, mask = block_volume((6, 40, 40), (2, 1, 1))  # id encodes (z, y, x)
    for seed in range(8):
        _, lab, _ = Misalignment(1.0, 3, 0.0)(image, labels, mask, rng(seed))
        z, y, x = np.unravel_index((lab.astype(np.int64) - 1), (3, 40, 40))
        inner = np.s_[:, 3:-3, 3:-3]
        dy = y[inner] - np.arange(40)[3:-3][None, :, None]
        dx = x[inner] - np.arange(40)[3:-3][None, None, :]
        assert np.abs(dy).max() <= 3 and np.abs(dx).max() <= 3


def test_single_section_patches_are_left_alone():
    image, labels, mask = block_volume((1, 16, 16), (1, 4, 4))
    for t in (Misalignment(1.0, 4, 0.5), MissingSection(1.0, 2)):
        out = t(image, labels, mask, rng())
        assert out[0] is image and out[1] is labels


def test_missing_sections_blank_the_image_only():
    image, labels, mask = block_volume()
    for seed in range(10):
        img, lab, msk = MissingSection(1.0, 3)(image, labels, mask, rng(seed))
        assert lab is labels and msk is mask
        blank = [z for z in range(img.shape[0]) if not np.array_equal(img[z], image[z])]
        assert 1 <= len(blank) <= 3
        for z in blank:
            assert np.all(img[z] == image.min())


def test_motion_blur_changes_at_most_the_given_sections():
    image, labels, mask = block_volume()
    for seed in range(6):
        img, lab, msk = MotionBlur(1.0, 2, 5)(image, labels, mask, rng(seed))
        assert lab is labels and msk is mask and img.dtype == np.float32
        changed = [z for z in range(img.shape[0]) if not np.array_equal(img[z], image[z])]
        assert 1 <= len(changed) <= 2
        # a normalised kernel keeps the mean of a section (up to the reflecting border)
        for z in changed:
            assert abs(img[z].mean() - image[z].mean()) < 0.02 * image[z].mean()


def test_line_kernel():
    k = line_kernel(7, 0.0)
    assert k.shape == (7, 7) and np.isclose(k.sum(), 1.0)
    np.testing.assert_allclose(k[3], 1 / 7)
    diagonal = line_kernel(5, np.pi / 4)
    assert np.count_nonzero(diagonal) == 5 and np.isclose(diagonal.sum(), 1.0)
