import itertools

import numpy as np
import pytest
from skimage.metrics import adapted_rand_error

from tests.metrics.conftest import compact, random_labels
from volseg.errors import VolsegError
from volseg.metrics import adapted_rand, contingency


def brute_force_rand(seg, gt, *, mask=None, seg_background="label", pairs="distinct"):
    """Loop over every voxel pair: (are, precision, recall) by the textbook definition."""
    seg, gt = np.asarray(seg).ravel(), np.asarray(gt).ravel()
    keep = (gt != 0) if mask is None else (gt != 0) & np.asarray(mask).ravel()
    idx = np.flatnonzero(keep)
    if seg_background == "singletons":  # every seg-0 voxel gets its own new id
        seg = seg.astype(np.int64)
        zeros = idx[seg[idx] == 0]
        seg[zeros] = -1 - np.arange(zeros.size)
    same_seg = same_gt = same_both = 0
    for i, j in itertools.product(idx, idx):
        if pairs == "distinct" and i == j:
            continue
        s, g = seg[i] == seg[j], gt[i] == gt[j]
        same_seg += s
        same_gt += g
        same_both += s and g
    precision, recall = same_both / same_seg, same_both / same_gt
    return 1 - 2 * precision * recall / (precision + recall), precision, recall


@pytest.mark.parametrize("seed", range(6))
def test_equals_skimage_with_precision_recall_swapped(seed):
    rng = np.random.default_rng(seed)
    shape = (5, 12, 13)
    dtype = (np.uint32, np.uint64)[seed % 2]
    gt = random_labels(rng, shape, 8, offset=2**35 if seed % 2 else 0, dtype=dtype)
    seg = random_labels(rng, shape, 6 + seed, offset=2**40 * (seed % 3), dtype=np.uint64)
    are, precision, recall = adapted_rand(seg, gt)
    sk_are, sk_p, sk_r = adapted_rand_error(compact(gt), compact(seg))
    assert are == pytest.approx(sk_are, abs=1e-12)
    # skimage returns precision and recall swapped (scikit-image issue #6485).
    assert precision == pytest.approx(sk_r, abs=1e-12)
    assert recall == pytest.approx(sk_p, abs=1e-12)
    # A mask is the same as setting gt to the ignored label 0 outside it.
    mask = rng.random(shape) < 0.5
    got = adapted_rand(seg, gt, mask=mask)
    sk = adapted_rand_error(compact(np.where(mask, gt, 0)), compact(seg))
    assert got == pytest.approx((sk[0], sk[2], sk[1]), abs=1e-12)
    # The table= path gives bit-identical results.
    table = contingency(seg, gt, mask=mask)
    assert adapted_rand(table=table) == got


def test_ignore_labels_match_skimage(rng):
    gt = random_labels(rng, (4, 10, 10), 6)
    seg = random_labels(rng, (4, 10, 10), 5)
    got = adapted_rand(seg, gt, ignore_labels=(0, 3))
    sk = adapted_rand_error(gt, seg, ignore_labels=(0, 3))
    assert got == pytest.approx((sk[0], sk[2], sk[1]), abs=1e-12)


@pytest.mark.parametrize("seg_background", ["label", "singletons"])
@pytest.mark.parametrize("pairs", ["distinct", "squared"])
def test_all_conventions_equal_brute_force(rng, seg_background, pairs):
    gt = random_labels(rng, (2, 5, 6), 4)
    seg = random_labels(rng, (2, 5, 6), 4)
    mask = rng.random(gt.shape) < 0.8
    got = adapted_rand(seg, gt, mask=mask, seg_background=seg_background, pairs=pairs)
    ref = brute_force_rand(seg, gt, mask=mask, seg_background=seg_background, pairs=pairs)
    assert got == pytest.approx(ref, abs=1e-12)


def test_merge_lowers_precision_split_lowers_recall():
    gt = np.repeat(np.arange(1, 5), 25).reshape(10, 10)
    merged = np.ones_like(gt)
    are, precision, recall = adapted_rand(merged, gt)
    assert recall == 1.0 and precision == pytest.approx(4 * 25 * 24 / (100 * 99))
    split = gt * 10 + (np.arange(100).reshape(10, 10) % 2)
    are, precision, recall = adapted_rand(split, gt)
    assert precision == 1.0 and recall < 0.5
    assert adapted_rand(gt, gt) == (0.0, 1.0, 1.0)


def test_singletons_only_lower_recall():
    gt = np.array([[1, 1, 1, 2, 2, 2]], np.uint32)
    seg = np.array([[5, 5, 0, 0, 7, 7]], np.uint32)
    _, p_label, _ = adapted_rand(seg, gt)
    are, p_single, r_single = adapted_rand(seg, gt, seg_background="singletons")
    assert p_label < 1.0  # seg 0 spans both gt bodies
    assert p_single == 1.0
    assert r_single == pytest.approx(4 / 12)


def test_degenerate_cases():
    gt = np.array([1, 1, 2, 2], np.uint32)
    singles = np.array([1, 2, 3, 4], np.uint32)
    are, precision, recall = adapted_rand(singles, gt)
    assert (are, precision, recall) == (1.0, 1.0, 0.0)
    one = np.array([0, 0, 0, 9], np.uint32)
    assert adapted_rand(one, one) == (0.0, 1.0, 1.0)  # a single voxel: no pairs at all


def test_failure_paths(rng):
    gt = random_labels(rng, (3, 4, 5), 3)
    with pytest.raises(VolsegError, match="no voxels left.*adapted Rand is undefined"):
        adapted_rand(gt, np.zeros_like(gt))
    with pytest.raises(VolsegError, match="no voxels left"):
        adapted_rand(gt, gt, mask=np.zeros(gt.shape, bool))
    with pytest.raises(VolsegError, match="shape"):
        adapted_rand(gt, gt[:2])
    with pytest.raises(VolsegError, match="integer labels"):
        adapted_rand(gt.astype(np.float32), gt)
    with pytest.raises(VolsegError, match="negative label"):
        adapted_rand(gt.astype(np.int16) - 1, gt)
    with pytest.raises(VolsegError, match="seg_background must be one of"):
        adapted_rand(gt, gt, seg_background="ignore")
    with pytest.raises(VolsegError, match="pairs must be"):
        adapted_rand(gt, gt, pairs="all")
    with pytest.raises(VolsegError, match="seg and gt are required"):
        adapted_rand(gt)
    with pytest.raises(VolsegError, match="table must be a volseg.metrics.Contingency"):
        adapted_rand(table=np.zeros((2, 2)))
    with pytest.raises(VolsegError, match="ignore_labels must be >= 0"):
        adapted_rand(gt, gt, ignore_labels=(-1,))
