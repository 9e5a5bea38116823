import h5py
import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.io import open_volume

RAW = np.arange(4 * 6 * 8, dtype=np.uint16).reshape(4, 6, 8)


@pytest.fixture
def h5file(tmp_path):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        raw = f.create_dataset("raw", data=RAW, chunks=(2, 3, 4))
        raw.attrs["resolution_nm_zyx"] = [40, 4, 4]
        raw.attrs["offset"] = [80, 0, 4]
        f.create_dataset("seg/cells", data=RAW.astype(np.uint32))
    return path


def test_single_dataset_is_picked_and_lazy(tmp_path):
    path = tmp_path / "one.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("deep/data", data=RAW)
        f["deep/data"].attrs["element_size_um"] = [0.03, 0.005, 0.005]
    with open_volume(path) as vol:
        assert isinstance(vol.data.wrapped, h5py.Dataset)
        assert vol.path == f"{path}:deep/data"
        assert vol.voxel_size == pytest.approx((30.0, 5.0, 5.0))
        assert vol.attrs["voxel_size_source"] == "attrs:element_size_um"
        np.testing.assert_array_equal(vol[1:3, 2:4, 5:7], RAW[1:3, 2:4, 5:7])
        handle = vol.data.file
    assert not handle  # closed by the context manager


def test_key_spellings_and_metadata(h5file):
    for vol in (
        open_volume(f"{h5file}:raw"),
        open_volume(h5file, "raw"),
        open_volume(f"{h5file}/raw"),
    ):
        assert vol.shape == RAW.shape and vol.dtype == np.uint16
        assert vol.voxel_size == (40.0, 4.0, 4.0) and vol.offset == (80.0, 0.0, 4.0)
        assert vol.attrs["format"] == "h5"
        np.testing.assert_array_equal(vol.numpy(), RAW)
        vol.close()


def test_root_attrs_and_default_voxel_size(tmp_path):
    path = tmp_path / "r.h5"
    with h5py.File(path, "w") as f:
        f["a"] = RAW
        f.attrs["resolution"] = 7
    assert open_volume(path).voxel_size == (7.0, 7.0, 7.0)
    with h5py.File(path, "a") as f:
        del f.attrs["resolution"]
    vol = open_volume(path)
    assert vol.voxel_size == (1.0, 1.0, 1.0) and vol.attrs["voxel_size_source"] == "default"
    assert open_volume(path, voxel_size=(3, 2, 1)).attrs["voxel_size_source"] == "argument"


def test_close_releases_the_file(h5file):
    vol = open_volume(h5file, "raw")
    vol.close()
    vol.close()  # idempotent
    with pytest.raises((ValueError, RuntimeError, KeyError, OSError)):
        vol[0]
    with h5py.File(h5file, "a") as f:  # writable again once closed
        f.attrs["x"] = 1


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            None,
            r"several datasets, \['raw', 'seg/cells'\]; name one after a colon, e.g. .*f.h5:raw",
        ),
        ("nope", r"key 'nope' not found in .*f.h5; available datasets: \['raw', 'seg/cells'\]"),
        ("seg", r"key 'seg' in .*f.h5 is a group, not a dataset; inside it: \['seg/cells'\]"),
    ],
)
def test_key_errors(h5file, key, message):
    with pytest.raises(VolsegError, match=message):
        open_volume(h5file, key)


def test_empty_file(tmp_path):
    with h5py.File(tmp_path / "e.h5", "w"):
        pass
    with pytest.raises(VolsegError, match="contains no datasets"):
        open_volume(tmp_path / "e.h5")


def test_truncated_and_junk_files(h5file, tmp_path):
    cut = tmp_path / "cut.h5"
    cut.write_bytes(h5file.read_bytes()[:1000])
    with pytest.raises(
        VolsegError, match=rf"cannot read {cut}: not a valid HDF5 file \(.*truncated"
    ):
        open_volume(cut, "raw")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(VolsegError, match=rf"cannot read {junk}: not a valid HDF5 file"):
        open_volume(junk)


def test_bad_resolution_attribute(tmp_path):
    path = tmp_path / "b.h5"
    with h5py.File(path, "w") as f:
        f["a"] = RAW
        f["a"].attrs["resolution_nm_zyx"] = [1, -2, 1]
    with pytest.raises(VolsegError, match="'resolution_nm_zyx' in .*b.h5:a must be positive"):
        open_volume(path)
