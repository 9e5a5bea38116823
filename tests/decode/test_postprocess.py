import numpy as np

from volseg.decode.postprocess import relabel_sequential, remove_small


def test_remove_small_and_relabel():
    labels = np.array([[0, 5, 5, 5], [9, 9, 0, 7], [7, 7, 7, 2**40]], dtype=np.uint64)
    out = remove_small(labels, min_size=3)
    assert labels[0, 1] == 5  # input untouched
    assert set(np.unique(out)) == {0, 5, 7}
    seq = relabel_sequential(out)
    assert seq.dtype == np.uint32
    assert seq[0, 1] == 1 and seq[1, 3] == 2 and seq[1, 0] == 0
