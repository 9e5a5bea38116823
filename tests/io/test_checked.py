"""Non-finite voxels, missing chunks and corrupt chunks are errors where they are read."""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.io import open_volume, write_volume
from volseg.io.checked import MISSING_ENV, CheckedArray

IMAGE = np.linspace(0, 1, 4 * 16 * 16, dtype=np.float32).reshape(4, 16, 16)


def _store(tmp_path, data=IMAGE):
    path = tmp_path / "img.zarr"
    write_volume(path, data, voxel_size=(1, 1, 1), chunks=(2, 8, 8), levels=1)
    return path


def test_finite_reads_pass_and_equal_the_data(tmp_path):
    vol = open_volume(_store(tmp_path))
    np.testing.assert_array_equal(vol[1:3, 4:12, :], IMAGE[1:3, 4:12, :])
    np.testing.assert_array_equal(np.asarray(vol.data), IMAGE)
    assert vol.data.chunks == (2, 8, 8)


def test_nan_in_a_block_names_file_and_block(tmp_path):
    bad = IMAGE.copy()
    bad[3, 10, 10] = np.nan
    bad[3, 11, 10] = np.inf
    vol = open_volume(_store(tmp_path, bad))
    np.testing.assert_array_equal(vol[0:2], IMAGE[0:2])  # clean blocks still read
    with pytest.raises(VolsegError, match=r"img\.zarr holds 2 NaN or inf values in block \[2:4"):
        vol[2:4]


def test_nan_in_h5_is_found_too(tmp_path):
    path = tmp_path / "v.h5"
    bad = IMAGE.copy()
    bad[0, 0, 0] = np.nan
    with h5py.File(path, "w") as f:
        f["raw"] = bad
    with pytest.raises(VolsegError, match=r"v\.h5:raw holds 1 NaN"):
        open_volume(f"{path}:raw").numpy()


def test_missing_chunk_is_refused_at_open(tmp_path):
    path = _store(tmp_path)
    (path / "s0" / "c" / "1" / "1" / "1").unlink()
    with pytest.raises(VolsegError, match=r"missing chunk c/1/1/1 \(block \[2:4, 8:16, 8:16\]\)"):
        open_volume(path)


def test_missing_chunk_allowed_when_the_user_chose_fill_semantics(tmp_path, monkeypatch):
    path = _store(tmp_path)
    (path / "s0" / "c" / "1" / "1" / "1").unlink()
    monkeypatch.setenv(MISSING_ENV, "fill")
    assert open_volume(path)[2:4, 8:16, 8:16].max() == 0.0
    monkeypatch.delenv(MISSING_ENV)
    group = zarr.open_group(path, mode="r+")
    group.attrs["volseg"] = {**group.attrs["volseg"], "missing_chunks": "fill"}
    assert open_volume(path)[2:4, 8:16, 8:16].max() == 0.0


def test_all_zero_blocks_are_written_so_nothing_looks_missing(tmp_path):
    labels = np.zeros((4, 16, 16), np.uint32)
    labels[0, 0, 0] = 1
    path = tmp_path / "lab.zarr"
    write_volume(path, labels, voxel_size=(1, 1, 1), kind="labels", chunks=(2, 8, 8), levels=1)
    np.testing.assert_array_equal(open_volume(path).numpy(), labels)


def test_corrupt_chunk_gives_one_sentence(tmp_path):
    path = _store(tmp_path)
    chunk = path / "s0" / "c" / "0" / "1" / "0"
    chunk.write_bytes(np.random.default_rng(0).bytes(chunk.stat().st_size))
    vol = open_volume(path)
    with pytest.raises(VolsegError, match=r"cannot read block \[0:2, 0:16, 0:16\] of .*img\.zarr: "
                       r"a chunk is corrupt or unreadable .*restore the file"):  # fmt: skip
        vol[0:2]


def test_checked_array_pickles_and_passes_index_errors():
    wrapped = CheckedArray(np.arange(4.0), "x")
    again = pickle.loads(pickle.dumps(wrapped))
    np.testing.assert_array_equal(again[1:3], [1.0, 2.0])
    with pytest.raises(IndexError):
        wrapped[7]
