import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.metrics import roc_auc, semantic


def brute_force_auc(scores, positive):
    """P(positive score > negative score) + P(equal) / 2 over every pair."""
    pos, neg = scores[positive], scores[~positive]
    wins = sum(float((p > neg).sum()) + 0.5 * float((p == neg).sum()) for p in pos)
    return wins / (pos.size * neg.size)


@pytest.mark.parametrize("seed", range(4))
def test_roc_auc_equals_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(300), 1 + seed % 2)  # coarse rounding: many ties
    positive = rng.random(300) < 0.3 + 0.1 * seed
    assert roc_auc(scores, positive) == pytest.approx(brute_force_auc(scores, positive), abs=1e-12)


def test_roc_auc_edge_values():
    assert roc_auc(np.array([0.1, 0.2, 0.9]), np.array([False, False, True])) == 1.0
    assert roc_auc(np.array([0.9, 0.2]), np.array([False, True])) == 0.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([False, True])) == 0.5
    assert np.isnan(roc_auc(np.array([0.1, 0.2]), np.array([True, True])))


def test_semantic_scores_against_direct_formulas(rng):
    pred = rng.random((4, 10, 10)).astype(np.float32)
    gt = rng.integers(0, 3, (4, 10, 10)).astype(np.uint16)  # labels: non-zero = foreground
    mask = rng.random(gt.shape) < 0.9
    s = semantic(pred, gt, threshold=0.4, mask=mask)
    p, g = pred[mask] > 0.4, gt[mask] > 0
    tp, fp, fn, tn = (p & g).sum(), (p & ~g).sum(), (~p & g).sum(), (~p & ~g).sum()
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (tp, fp, fn, tn)
    assert s["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert s["f1"] == s["dice"]
    assert s["iou"] == pytest.approx(tp / (tp + fp + fn))
    assert s["accuracy"] == pytest.approx((tp + tn) / mask.sum())
    assert s["precision"] == pytest.approx(tp / (tp + fp))
    assert s["recall"] == pytest.approx(tp / (tp + fn))
    soft = 2 * (pred[mask] * g).sum() / (pred[mask].sum() + g.sum())
    assert s["soft_dice"] == pytest.approx(soft, rel=1e-6)
    assert s["roc_auc"] == pytest.approx(brute_force_auc(pred[mask].astype(float), g), abs=1e-12)


def test_float_gt_with_ignore_value_equals_mask(rng):
    pred = rng.random((3, 6, 6))
    gt = (rng.random((3, 6, 6)) < 0.4).astype(np.float32)
    ignore = rng.random(gt.shape) < 0.2
    with_ignore = semantic(pred, np.where(ignore, -1.0, gt))
    assert with_ignore == semantic(pred, gt.astype(bool), mask=~ignore)


def test_empty_cases():
    zeros = np.zeros((2, 3))
    s = semantic(zeros, zeros.astype(bool))
    assert all(s[k] == 1.0 for k in ("dice", "iou", "precision", "recall", "f1", "soft_dice"))
    assert s["accuracy"] == 1.0 and np.isnan(s["roc_auc"])
    missed = semantic(zeros, np.ones((2, 3), bool))
    assert missed["dice"] == missed["iou"] == missed["precision"] == missed["recall"] == 0.0
    binary = semantic(np.array([[0, 3]], np.uint32), np.array([[False, True]]))
    assert binary["dice"] == 1.0 and binary["roc_auc"] == 1.0


def test_failure_paths():
    a = np.zeros((2, 3))
    with pytest.raises(VolsegError, match="shape"):
        semantic(a, a[:1].astype(bool))
    with pytest.raises(VolsegError, match="only 0, 1 or -1.*0.5"):
        semantic(a, np.full((2, 3), 0.5))
    with pytest.raises(VolsegError, match="NaN or infinite"):
        semantic(np.full((2, 3), np.nan), a.astype(bool))
    with pytest.raises(VolsegError, match="no voxel is left"):
        semantic(a, a.astype(bool), mask=np.zeros((2, 3), bool))
    with pytest.raises(VolsegError, match="mask must be boolean or integer"):
        semantic(a, a.astype(bool), mask=a)
    with pytest.raises(VolsegError, match="float map or integer labels"):
        semantic(np.zeros((2, 3), complex), a.astype(bool))
