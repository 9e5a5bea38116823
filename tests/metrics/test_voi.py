import math
from collections import Counter

import numpy as np
import pytest
from skimage.metrics import variation_of_information

from tests.metrics.conftest import compact, random_labels
from volseg.errors import VolsegError
from volseg.metrics import contingency, voi


def brute_force_voi(seg, gt, mask=None):
    """H(seg|gt), H(gt|seg) in bits from explicit counts, gt 0 ignored."""
    seg, gt = np.asarray(seg).ravel().tolist(), np.asarray(gt).ravel().tolist()
    keep = [True] * len(seg) if mask is None else np.asarray(mask).ravel().tolist()
    pairs = [(s, g) for s, g, k in zip(seg, gt, keep, strict=True) if k and g != 0]
    n = len(pairs)
    joint = Counter(pairs)
    seg_n = Counter(s for s, _ in pairs)
    gt_n = Counter(g for _, g in pairs)
    split = -sum(c / n * math.log2(c / gt_n[g]) for (_, g), c in joint.items())
    merge = -sum(c / n * math.log2(c / seg_n[s]) for (s, _), c in joint.items())
    return split, merge


@pytest.mark.parametrize("seed", range(5))
def test_equals_skimage_and_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    shape = (4, 11, 9)
    gt = random_labels(rng, shape, 7, offset=2**50 * (seed % 2), dtype=np.uint64)
    seg = random_labels(rng, shape, 5 + seed, dtype=np.uint32)
    got = voi(seg, gt)
    assert got == pytest.approx(
        tuple(variation_of_information(compact(gt), seg, ignore_labels=(0,))), abs=1e-12
    )
    assert got == pytest.approx(brute_force_voi(seg, gt), abs=1e-12)
    mask = rng.random(shape) < 0.6
    masked = voi(seg, gt, mask=mask)
    sk = variation_of_information(compact(np.where(mask, gt, 0)), seg, ignore_labels=(0,))
    assert masked == pytest.approx(tuple(sk), abs=1e-12)
    assert voi(table=contingency(seg, gt, mask=mask)) == masked
    # Without ignoring anything: equals skimage's default.
    assert voi(seg, gt, ignore_labels=()) == pytest.approx(
        tuple(variation_of_information(compact(gt), seg)), abs=1e-12
    )


def test_singletons_equal_relabelling_seg_zero_to_unique_ids(rng):
    gt = random_labels(rng, (3, 8, 8), 5)
    seg = random_labels(rng, (3, 8, 8), 4)
    unique = seg.astype(np.uint64)
    zeros = np.flatnonzero(unique == 0)
    unique.flat[zeros] = 1000 + np.arange(zeros.size, dtype=np.uint64)
    assert voi(seg, gt, seg_background="singletons") == pytest.approx(voi(unique, gt), abs=1e-12)


def test_split_and_merge_directions():
    gt = np.repeat(np.arange(1, 5), 16).reshape(8, 8)
    assert voi(gt, gt) == (0.0, 0.0)
    split, merge = voi(gt * 2 + np.arange(64).reshape(8, 8) % 2, gt)
    assert split == pytest.approx(1.0) and merge == 0.0
    split, merge = voi(np.ones_like(gt), gt)
    assert split == 0.0 and merge == pytest.approx(2.0)


def test_failure_paths():
    gt = np.zeros((2, 3, 4), np.uint32)
    with pytest.raises(VolsegError, match="no voxels left.*VOI is undefined"):
        voi(gt, gt)
    with pytest.raises(VolsegError, match="seg_background"):
        voi(gt + 1, gt + 1, seg_background="other")
    with pytest.raises(VolsegError, match="integer labels"):
        voi(gt, gt.astype(np.float64))
