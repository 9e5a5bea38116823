"""Real EM volumes from ../shared/data, opened through open_volume (CI has them; no skipping)."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from volseg.io import check_labels, check_raw, check_same_shape, open_volume

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
NEUROPROOF = DATA / "neuroproof_training_sample2" / "volume.h5"
LUCCHI = DATA / "lucchi_pp_crops" / "train_crop.h5"


def _reference_crop(path, key, crop):
    with h5py.File(path, "r") as f:
        return f[key][crop]


@pytest.mark.parametrize(
    ("path", "key", "shape", "dtype", "voxel"),
    [
        (NEUROPROOF, "raw", (250, 250, 250), np.uint8, 10.0),
        (NEUROPROOF, "labels", (250, 250, 250), np.uint32, 10.0),
        (LUCCHI, "raw", (165, 512, 512), np.uint8, 5.0),
        (LUCCHI, "instances", (165, 512, 512), np.uint16, 5.0),
    ],
)
def test_shape_dtype_and_voxel_size(path, key, shape, dtype, voxel):
    with open_volume(f"{path}:{key}", ndim=3) as vol:
        assert isinstance(vol.data.wrapped, h5py.Dataset)  # lazy: nothing read yet
        assert vol.shape == shape and vol.dtype == dtype
        assert vol.voxel_size == (voxel,) * 3
        assert vol.attrs["voxel_size_source"] == "attrs:resolution_nm_zyx"


def test_neuroproof_crop_instances():
    crop = np.s_[100:164, 0:96, 0:96]
    with open_volume(NEUROPROOF, "labels") as labels, open_volume(NEUROPROOF, "raw") as raw:
        check_same_shape(raw, labels)
        part = labels[crop]
        assert part.shape == (64, 96, 96) and part.nbytes == 64 * 96 * 96 * 4  # crop-sized read
        expected = _reference_crop(NEUROPROOF, "labels", crop)
        np.testing.assert_array_equal(part, expected)
        ids = np.unique(part)
        assert len(ids) == len(np.unique(expected)) and len(ids) > 10
        # 0 marks only voxel (z, 0, 0) of each slice (SOURCE.md)
        assert np.array_equal(np.argwhere(part == 0)[:, 1:], np.zeros((64, 2), int))
        check_labels(labels)
        np.testing.assert_array_equal(raw[crop], _reference_crop(NEUROPROOF, "raw", crop))


def test_lucchi_crop_instances():
    crop = np.s_[0:33, 128:384, 128:384]
    with open_volume(f"{LUCCHI}:instances") as inst, open_volume(f"{LUCCHI}:raw") as raw:
        check_same_shape(raw, inst, ("raw", "instances"))
        part = inst[crop]
        expected = _reference_crop(LUCCHI, "instances", crop)
        np.testing.assert_array_equal(part, expected)
        assert part.shape == (33, 256, 256)
        assert np.array_equal(np.unique(part), np.unique(expected)) and part.max() <= 21
        check_raw(raw)
