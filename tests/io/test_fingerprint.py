"""An input's fingerprint stays while nothing is written and changes when it is replaced."""

import os
import time

import h5py
import numpy as np
import zarr

from volseg.io import write_volume
from volseg.io.fingerprint import file_fingerprint, fingerprint


def later(path) -> None:
    """Give a file a later modification time, as a rewrite a moment later would."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def test_a_zarr_volume_keeps_its_fingerprint_until_a_chunk_is_rewritten(tmp_path):
    data = np.arange(20 * 40 * 40, dtype=np.uint16).reshape(20, 40, 40)
    write_volume(tmp_path / "v.zarr", data, voxel_size=(10, 5, 5), chunks=(8, 16, 16), levels=1)
    first = fingerprint(tmp_path / "v.zarr")
    assert first == fingerprint(str(tmp_path / "v.zarr")) == fingerprint(tmp_path / "v.zarr")
    np.asarray(zarr.open_group(str(tmp_path / "v.zarr"), mode="r")["s0"][...])  # reading: same
    assert fingerprint(tmp_path / "v.zarr") == first
    array = zarr.open_group(str(tmp_path / "v.zarr"), mode="r+")["s0"]
    time.sleep(0.01)
    array[0, 0, 0] = 7  # the first chunk is one of the sampled ones
    assert fingerprint(tmp_path / "v.zarr") != first


def test_a_copy_of_another_volume_at_the_same_path_is_seen(tmp_path):
    write_volume(tmp_path / "v.zarr", np.zeros((8, 32, 32), np.uint8), voxel_size=(1, 1, 1))
    first = fingerprint(tmp_path / "v.zarr")
    write_volume(tmp_path / "v.zarr", np.ones((8, 32, 32), np.uint8), voxel_size=(1, 1, 1),
                 overwrite=True)  # fmt: skip
    assert fingerprint(tmp_path / "v.zarr") != first


def test_files_change_with_a_rewrite(tmp_path):
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f["raw"] = np.zeros((4, 8, 8), np.uint8)
    first = fingerprint(f"{tmp_path / 'v.h5'}:raw")
    later(tmp_path / "v.h5")
    assert fingerprint(f"{tmp_path / 'v.h5'}:raw") != first
    (tmp_path / "m.pt").write_bytes(b"weights")
    before = file_fingerprint(tmp_path / "m.pt")
    assert file_fingerprint(tmp_path / "m.pt") == before
    later(tmp_path / "m.pt")
    assert file_fingerprint(tmp_path / "m.pt") != before


def test_urls_have_none():
    assert fingerprint("https://example.org/data.zarr") is None
