import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.io import Volume, check_labels, check_raw, check_same_shape


class CountingArray:
    """Array-like that records the regions read and the largest read."""

    def __init__(self, data, chunks):
        self.data, self.chunks = data, chunks
        self.shape, self.dtype = data.shape, data.dtype
        self.reads = []

    def __getitem__(self, index):
        out = self.data[index]
        self.reads.append(out.size)
        return out


def test_labels_must_be_integers():
    check_labels(Volume(np.zeros((2, 2, 2), np.uint64)))
    check_labels(Volume(np.zeros((2, 2, 2), bool)))
    with pytest.raises(
        VolsegError, match=r"labels must be integers, got float32 in seg.h5:labels\."
    ):
        check_labels(Volume(np.zeros((2, 2, 2), np.float32), path="seg.h5:labels"))


@pytest.fixture
def small_blocks(monkeypatch):
    """Shrink the block budget to one (4, 16, 16) float32 chunk so chunking is visible."""
    import volseg.io.checks as checks
    from volseg.io import blocks

    monkeypatch.setattr(
        checks, "read_blocks", lambda d: blocks.read_blocks(d, target_bytes=4 * 16 * 16 * 4)
    )


def test_negative_labels_are_found_chunk_by_chunk(small_blocks):
    data = np.ones((16, 16, 16), np.int32)
    data[9, 7, 1] = -4
    array = CountingArray(data, (4, 16, 16))
    with pytest.raises(
        VolsegError,
        match=r"labels must be non-negative, found -4 in x \(block \[8:12, 0:16, 0:16\]\)",
    ):
        check_labels(Volume(array, path="x"))
    assert array.reads == [4 * 16 * 16] * 3  # stopped at the bad chunk
    with pytest.raises(VolsegError, match="found -4"):
        check_labels(data, chunked=False)
    check_labels(Volume(np.ones((2, 2, 2), np.int8)), chunked=False)


def test_raw_nan_is_found_chunk_by_chunk(tmp_path, small_blocks):
    data = np.zeros((16, 16, 16), np.float32)
    data[9, 3, 3] = np.inf
    data[10, 0, 0] = np.nan
    arr = zarr.create_array(
        tmp_path / "r.zarr", shape=data.shape, dtype=data.dtype, chunks=(4, 16, 16)
    )
    arr[...] = data
    counting = CountingArray(arr, arr.chunks)
    with pytest.raises(
        VolsegError, match=r"raw image r contains 2 NaN or inf values in block \[8:12, 0:16, 0:16\]"
    ):
        check_raw(Volume(counting, path="r"))
    assert counting.reads == [4 * 16 * 16] * 3
    with pytest.raises(VolsegError, match="contains 2 NaN or inf"):
        check_raw(data, chunked=False)


def test_valid_raw_is_read_once_in_chunks(small_blocks):
    array = CountingArray(np.zeros((16, 16, 16), np.float32), (4, 16, 16))
    check_raw(Volume(array))
    assert array.reads == [4 * 16 * 16] * 4
    check_raw(Volume(np.ones((4, 4, 4), np.uint8)))


def test_raw_must_be_real():
    with pytest.raises(VolsegError, match="raw images must be real numbers, got complex64"):
        check_raw(Volume(np.zeros((2, 2, 2), np.complex64)))


def test_same_shape():
    raw = Volume(np.zeros((4, 5, 6)), path="raw.h5:raw")
    check_same_shape(raw, np.zeros((3, 4, 5, 6)), ("raw", "maps"))
    with pytest.raises(
        VolsegError,
        match=r"raw \(raw.h5:raw\) has shape \(4, 5, 6\) but labels \(l.h5\) "
        r"has shape \(4, 5, 7\); they must match\.",
    ):
        check_same_shape(raw, Volume(np.zeros((4, 5, 7)), path="l.h5"))
