import numpy as np
import pytest
from scipy import ndimage

from volseg.decode import cc
from volseg.errors import VolsegError


def test_cc_matches_scipy_labelling():
    rng = np.random.default_rng(1)
    prob = rng.random((12, 20, 20)).astype(np.float32)
    ours = cc(prob, threshold=0.7, connectivity=6)
    ref, n = ndimage.label(prob > 0.7)
    assert ours.max() == n
    # same partition: every reference component maps to exactly one of ours
    pairs = np.unique(np.stack([ours[ref > 0], ref[ref > 0]]), axis=1)
    assert pairs.shape[1] == n
    assert ((ours > 0) == (ref > 0)).all()


def test_cc_min_size_and_bool_input():
    mask = np.zeros((5, 10, 10), dtype=bool)
    mask[0, 0, 0] = True
    mask[2:5, 2:6, 2:6] = True
    assert cc(mask).max() == 2
    out = cc(mask, min_instance_size=2)
    assert out.max() == 1 and out[0, 0, 0] == 0


@pytest.mark.parametrize(
    "arr, kwargs, message",
    [
        (np.zeros((4, 4)), {"threshold": 2.0}, r"\[0, 1\]"),
        (np.zeros((4, 4), dtype=np.int32), {}, "dtype"),
        (np.zeros((2, 2, 2, 2), dtype=bool), {}, "shape"),
        (np.zeros((4, 4, 4), dtype=bool), {"connectivity": 8}, "6, 18 or 26"),
    ],
)
def test_cc_bad_input(arr, kwargs, message):
    with pytest.raises(VolsegError, match=message):
        cc(arr, **kwargs)
