"""Real data: the neuroproof FIB-SEM crop (dense neuron ids), read straight from the h5 file."""

import h5py
import numpy as np
import pytest
from skimage.metrics import adapted_rand_error, variation_of_information

from tests.metrics.conftest import NEUROPROOF
from volseg.metrics import adapted_rand, contingency, match_instances, voi

pytestmark = pytest.mark.skipif(not NEUROPROOF.exists(), reason="shared data not present")


def perturb(gt: np.ndarray) -> np.ndarray:
    """Shift boundaries by two voxels, split bodies at x=64, merge two large bodies."""
    seg = np.roll(gt, 2, axis=2).astype(np.uint64)
    seg[:, :, 64:] += np.uint64(2**36)
    ids, sizes = np.unique(gt, return_counts=True)
    a, b = ids[np.argsort(sizes)[-2:]]
    seg[gt == a] = seg[gt == b].max()
    return seg


def test_chunked_h5_equals_numpy_and_skimage():
    with h5py.File(NEUROPROOF, "r") as f:
        labels = f["labels"]
        gt = labels[:40, :128, :128]
        seg = perturb(gt)
        table = contingency(seg, gt)
        # The full dataset read in z-slabs through h5py: cropped via the mask.
        full_seg = np.zeros(labels.shape, np.uint64)
        full_seg[:40, :128, :128] = seg
        mask = np.zeros(labels.shape, bool)
        mask[:40, :128, :128] = True
        chunked = contingency(full_seg, labels, mask=mask)
    for name in ("seg_ids", "gt_ids", "counts", "seg_sizes", "gt_sizes"):
        assert np.array_equal(getattr(table, name), getattr(chunked, name)), name
    are, precision, recall = adapted_rand(table=table)
    sk = adapted_rand_error(gt, np.searchsorted(np.unique(seg), seg))
    assert are == pytest.approx(sk[0], abs=1e-9)
    assert (precision, recall) == pytest.approx((sk[2], sk[1]), abs=1e-9)
    assert 0.05 < are < 0.9
    split, merge = voi(table=table)
    sk_vi = variation_of_information(gt, np.searchsorted(np.unique(seg), seg), ignore_labels=(0,))
    assert (split, merge) == pytest.approx(tuple(sk_vi), abs=1e-9)
    m = match_instances(table=table, min_size=1000)
    assert m[0.5]["n_gt"] == int((np.unique(gt, return_counts=True)[1][1:] >= 1000).sum())
    assert 0 < m[0.5]["tp"] < m[0.5]["n_gt"]
