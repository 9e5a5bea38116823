"""Voxel sizes never silently disagree: file metadata against config, image against labels."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.io import open_volume, write_volume
from volseg.io.voxels import agreed_voxel_size, check_same_voxel_size, recorded_voxel_size

DATA = np.zeros((2, 4, 4), np.uint8)


@pytest.fixture
def files(tmp_path):
    write_volume(tmp_path / "a.zarr", DATA, voxel_size=(5, 5, 5))
    write_volume(tmp_path / "b.zarr", DATA, voxel_size=(10, 10, 10))
    with h5py.File(tmp_path / "bare.h5", "w") as f:
        f["raw"] = DATA
    return tmp_path


def test_file_metadata_wins_and_config_fills_in(files):
    a = open_volume(files / "a.zarr")
    assert recorded_voxel_size(a) == (5.0, 5.0, 5.0)
    assert agreed_voxel_size(a, None, key="k") == (5.0, 5.0, 5.0)
    assert agreed_voxel_size(a, [5, 5, 5.000001], key="k") == (5.0, 5.0, 5.0)
    bare = open_volume(f"{files}/bare.h5:raw")
    assert recorded_voxel_size(bare) is None
    assert agreed_voxel_size(bare, [30, 4, 4], key="k") == (30.0, 4.0, 4.0)
    assert agreed_voxel_size(bare, None, key="k") is None


def test_a_contradicting_config_names_both(files):
    a = open_volume(files / "a.zarr")
    with pytest.raises(VolsegError, match=r"data.voxel_size \[10.0, 10.0, 10.0\] nm contradicts "
                       r".*a\.zarr, whose metadata say \[5.0, 5.0, 5.0\] nm"):  # fmt: skip
        agreed_voxel_size(a, [10, 10, 10], key="data.voxel_size")


def test_image_and_labels_on_different_grids(files):
    a, b = open_volume(files / "a.zarr"), open_volume(files / "b.zarr")
    with pytest.raises(VolsegError, match=r"image .*a\.zarr is at \[5.0, 5.0, 5.0\] nm but labels "
                       r".*b\.zarr is at \[10.0, 10.0, 10.0\] nm"):  # fmt: skip
        check_same_voxel_size(a, b, names=("image", "labels"))
    check_same_voxel_size(a, open_volume(f"{files}/bare.h5:raw"), names=("image", "labels"))
