import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.metrics import contingency
from volseg.napari.errors_layer import BOTH, MERGE, SPLIT, error_labels, summary


def reference(seg, gt, min_overlap):
    """Slow, obviously-correct errors by the documented definitions."""
    out = np.zeros(seg.shape, np.uint8)
    for s in np.unique(seg):
        if s == 0:
            continue
        bodies, counts = np.unique(gt[(seg == s) & (gt != 0)], return_counts=True)
        if (counts > min_overlap).sum() >= 2:
            out[seg == s] |= MERGE
    for g in np.unique(gt):
        if g == 0:
            continue
        segs, counts = np.unique(seg[(gt == g) & (seg != 0)], return_counts=True)
        if (counts > min_overlap).sum() >= 2:
            out[gt == g] |= SPLIT
    return out


def test_merge_split_and_both_are_marked():
    gt = np.zeros((1, 4, 8), np.uint32)
    gt[0, :, :4], gt[0, :, 4:] = 1, 2
    seg = np.zeros_like(gt)
    seg[0, :2, :], seg[0, 2:, :4], seg[0, 2:, 4:] = 5, 6, 7  # 5 merges 1+2; 2 split in 5, 7
    errors = error_labels(seg, gt, min_overlap=0)
    expected = np.zeros_like(errors)
    expected[0, :2, :] = MERGE  # segment 5
    expected[0, :, 4:] |= SPLIT  # body 2 (in 5 and 7)
    expected[0, :, :4] |= SPLIT  # body 1 (in 5 and 6)
    np.testing.assert_array_equal(errors, expected)
    assert errors[0, 0, 0] == BOTH
    assert summary(errors) == {"false merge": 0, "false split": 16, "merge and split": 16}


def test_small_overlaps_and_background_are_tolerated():
    gt = np.zeros((1, 6, 6), np.uint32)
    gt[0, :, :3], gt[0, :, 3:] = 1, 2
    seg = gt.copy()
    seg[0, 0, 3] = 1  # one voxel of body 2 in segment 1
    seg[0, 5, :] = 0  # unlabelled voxels never count as a split
    assert error_labels(seg, gt, min_overlap=1).max() == 0
    errors = error_labels(seg, gt, min_overlap=0)
    assert (errors == BOTH).sum() == 1  # the shared voxel: in merged segment 1 and split body 2
    assert set(np.unique(errors)) == {0, MERGE, SPLIT, BOTH}


@pytest.mark.parametrize("seed", range(6))
def test_matches_reference_on_random_volumes(seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 4, (4, 9, 9)).astype(np.uint32)
    seg = np.where(rng.random(gt.shape) < 0.7, gt, rng.integers(0, 5, gt.shape)).astype(np.uint64)
    for n in (0, 3, 10):
        np.testing.assert_array_equal(error_labels(seg, gt, min_overlap=n), reference(seg, gt, n))


def test_precomputed_table_gives_the_same_answer():
    rng = np.random.default_rng(7)
    gt = rng.integers(0, 3, (3, 8, 8)).astype(np.uint32)
    seg = rng.integers(0, 3, gt.shape).astype(np.uint32)
    table = contingency(seg, gt)
    np.testing.assert_array_equal(
        error_labels(seg, gt, min_overlap=2, table=table), error_labels(seg, gt, min_overlap=2)
    )


def test_bool_and_signed_labels_are_accepted():
    gt = np.zeros((2, 4, 4), np.int64)
    gt[:, :, :2], gt[:, :, 2:] = 1, 2
    seg = np.ones(gt.shape, bool)
    errors = error_labels(seg, gt, min_overlap=0)
    np.testing.assert_array_equal(errors, np.full(gt.shape, MERGE, np.uint8))


@pytest.mark.parametrize(
    ("seg", "gt", "kwargs", "message"),
    [
        (np.zeros((2, 2, 2), np.uint32), np.zeros((2, 2, 3), np.uint32), {}, "same shape"),
        (np.zeros((2, 2, 2), np.float32), np.zeros((2, 2, 2), np.uint32), {}, "integer labels"),
        (np.zeros((2, 2, 2), np.uint32), np.zeros((2, 2, 2), np.uint32), {"min_overlap": -1},
         "min_overlap"),
        (np.zeros((2, 2, 2), np.uint32), np.zeros((2, 2, 2), np.uint32), {"min_overlap": 1.5},
         "min_overlap"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_error(seg, gt, kwargs, message):
    with pytest.raises(VolsegError, match=message):
        error_labels(seg, gt, **kwargs)
