import h5py
import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.io import open_volume


@pytest.fixture
def h5file(tmp_path):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        f["vol"] = np.zeros((2, 3, 4), np.uint8)
        f["maps"] = np.zeros((3, 2, 3, 4), np.float32)
        f["img"] = np.zeros((3, 4), np.uint8)
    return path


def test_ndim_is_checked_when_asked(h5file):
    assert open_volume(h5file, "vol", ndim=3).ndim == 3
    assert open_volume(h5file, "maps", ndim=(3, 4)).ndim == 4
    with pytest.raises(VolsegError, match=r"f.h5:img is 2D with shape \(3, 4\); expected 3D\."):
        open_volume(h5file, "img", ndim=3)
    with pytest.raises(VolsegError, match="is 2D with shape .*; expected 3D or 4D"):
        open_volume(h5file, "img", ndim=(3, 4))


def test_level_needs_ome_zarr(h5file):
    with pytest.raises(VolsegError, match="level= applies to OME-Zarr images only"):
        open_volume(h5file, "vol", level=1)


def test_explicit_geometry_wins(h5file):
    vol = open_volume(h5file, "vol", voxel_size=(30, 5, 5), offset=(1, 2, 3))
    assert (vol.voxel_size, vol.offset) == ((30.0, 5.0, 5.0), (1.0, 2.0, 3.0))
    with pytest.raises(VolsegError, match="voxel_size must be three numbers"):
        open_volume(h5file, "vol", voxel_size=(1, 2))
