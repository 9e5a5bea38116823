import numpy as np
import pytest

from tests.metrics.conftest import random_labels
from volseg.errors import VolsegError
from volseg.metrics import contingency, instance_ious, match_instances


def brute_force_ious(seg, gt, mask=None, min_size=0):
    """IoU of every (seg instance, gt instance) pair from boolean masks."""
    keep = np.ones(seg.shape, bool) if mask is None else mask
    seg_ids = [s for s in np.unique(seg[keep]) if s and (seg[keep] == s).sum() >= min_size]
    gt_ids = [g for g in np.unique(gt[keep]) if g and (gt[keep] == g).sum() >= min_size]
    iou = {}
    for s in seg_ids:
        for g in gt_ids:
            a, b = (seg == s) & keep, (gt == g) & keep
            inter = (a & b).sum()
            if inter:
                iou[s, g] = inter / (a | b).sum()
    return seg_ids, gt_ids, iou


def brute_force_match(seg_ids, gt_ids, iou, t):
    """Best one-to-one matching by exhaustive search: most matches, then largest IoU sum."""

    def best(i, used):
        if i == len(gt_ids):
            return (0, 0.0)
        options = [best(i + 1, used)]
        for s in seg_ids:
            v = iou.get((s, gt_ids[i]), 0.0)
            if s not in used and v >= t:
                n, total = best(i + 1, used | {s})
                options.append((n + 1, total + v))
        return max(options)

    return best(0, frozenset())


def check_against_brute_force(seg, gt, thresholds, mask=None, min_size=0):
    got = match_instances(seg, gt, thresholds=thresholds, mask=mask, min_size=min_size)
    seg_ids, gt_ids, iou = brute_force_ious(seg, gt, mask, min_size)
    for t in thresholds:
        tp, total = brute_force_match(seg_ids, gt_ids, iou, t)
        m = got[t]
        fp, fn = len(seg_ids) - tp, len(gt_ids) - tp
        assert (m["tp"], m["fp"], m["fn"]) == (tp, fp, fn), t
        assert (m["n_seg"], m["n_gt"]) == (len(seg_ids), len(gt_ids))
        if tp:
            assert m["mean_matched_iou"] == pytest.approx(total / tp, abs=1e-12)
            assert m["precision"] == pytest.approx(tp / (tp + fp))
            assert m["recall"] == pytest.approx(tp / (tp + fn))
            f1 = 2 * tp / (2 * tp + fp + fn)
            assert m["f1"] == pytest.approx(f1)
            assert m["pq"] == pytest.approx(total / tp * f1)
            assert m["ap_dsb"] == pytest.approx(tp / (tp + fp + fn))
        else:
            assert m["f1"] == m["pq"] == m["ap_dsb"] == 0.0


@pytest.mark.parametrize("seed", range(8))
def test_equals_brute_force_on_random_volumes(seed):
    rng = np.random.default_rng(200 + seed)
    gt = random_labels(rng, (2, 6, 6), 5)
    seg = random_labels(rng, (2, 6, 6), 6, offset=2**40, dtype=np.uint64)
    mask = rng.random(gt.shape) < 0.8 if seed % 2 else None
    thresholds = (0.1, 0.2, 0.3, 0.5, 0.75)
    check_against_brute_force(seg, gt, thresholds, mask=mask, min_size=seed % 3 * 2)


@pytest.mark.parametrize("seed", range(4))
def test_equals_brute_force_on_perturbed_copies(seed):
    rng = np.random.default_rng(300 + seed)
    gt = random_labels(rng, (3, 8, 9), 6)
    seg = np.where(gt > 0, gt.astype(np.uint64) + 2**33, 0)
    noise = rng.random(gt.shape) < 0.12 + 0.05 * seed
    seg[noise] = rng.integers(0, 4, noise.sum())
    got = match_instances(seg, gt, thresholds=(0.5, 0.75))
    assert got[0.5]["tp"] > 0
    check_against_brute_force(seg, gt, (0.25, 0.5, 0.6, 0.75, 0.9), min_size=seed)


def test_optimal_matching_beats_greedy_below_half():
    # A = 10 voxels, B = 4; X covers 6 of A and 3 of B; Y covers the other 4 of A.
    gt = np.array([1] * 10 + [2] * 4, np.uint32)
    seg = np.array([7] * 6 + [8] * 4 + [7] * 3 + [0], np.uint32)
    m = match_instances(seg, gt, thresholds=(0.3, 0.42, 0.5))
    assert (m[0.3]["tp"], m[0.3]["fp"], m[0.3]["fn"]) == (2, 0, 0)
    assert m[0.3]["mean_matched_iou"] == pytest.approx((0.4 + 0.3) / 2)
    assert (m[0.42]["tp"], m[0.42]["fp"], m[0.42]["fn"]) == (1, 1, 1)
    assert m[0.42]["mean_matched_iou"] == pytest.approx(6 / 13)
    assert m[0.5]["tp"] == 0
    check_against_brute_force(seg, gt, (0.3, 0.42, 0.5))


def test_tie_at_exactly_half_matches_once():
    gt = np.array([1, 1, 0], np.uint32)
    seg = np.array([4, 5, 0], np.uint32)
    m = match_instances(seg, gt, thresholds=(0.5,))[0.5]
    assert (m["tp"], m["fp"], m["fn"], m["mean_matched_iou"]) == (1, 1, 0, 0.5)


def test_min_size_drops_small_instances_from_both_sides():
    gt = np.array([1, 1, 1, 2, 0, 0, 3, 3], np.uint32)
    seg = np.array([5, 5, 5, 6, 9, 0, 3, 3], np.uint32)
    full = match_instances(seg, gt, thresholds=(0.5,))[0.5]
    assert (full["tp"], full["fp"], full["fn"]) == (3, 1, 0)
    small = match_instances(seg, gt, thresholds=(0.5,), min_size=2)[0.5]
    assert (small["tp"], small["fp"], small["fn"], small["n_gt"]) == (2, 0, 0, 2)
    ids = instance_ious(contingency(seg, gt), min_size=2)
    assert ids[0].tolist() == [3, 5] and ids[1].tolist() == [1, 3]


def test_empty_cases_and_table_path():
    zeros = np.zeros((2, 3), np.uint32)
    both = match_instances(zeros, zeros)[0.5]
    assert both["tp"] == both["fp"] == both["fn"] == 0
    assert all(both[k] == 1.0 for k in ("precision", "recall", "f1", "pq", "ap_dsb"))
    only_gt = match_instances(zeros, zeros + 1)[0.75]
    assert (only_gt["fn"], only_gt["precision"], only_gt["recall"], only_gt["pq"]) == (1, 0, 0, 0)
    gt = np.array([[1, 1, 2], [0, 2, 2]], np.uint32)
    table = contingency(gt, gt)
    assert match_instances(table=table) == match_instances(gt, gt)
    assert match_instances(table=table)[0.75]["pq"] == 1.0


def test_failure_paths():
    a = np.ones((2, 2), np.uint32)
    for bad in ((0.0,), (1.5,), ()):
        with pytest.raises(VolsegError, match="IoU thresholds must be in"):
            match_instances(a, a, thresholds=bad)
    with pytest.raises(VolsegError, match="min_size must be"):
        match_instances(a, a, min_size=-1)
    with pytest.raises(VolsegError, match="shape"):
        match_instances(a, a[:1])
