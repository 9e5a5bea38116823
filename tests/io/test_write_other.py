import h5py
import numpy as np
import pytest
import tifffile

from volseg.errors import VolsegError
from volseg.io import write_volume

IMAGE = np.arange(4 * 30 * 20, dtype=np.uint16).reshape(4, 30, 20)


def test_h5_new_file_then_more_datasets(tmp_path):
    path = tmp_path / "out.h5"
    vol = write_volume(
        f"{path}:raw", IMAGE, voxel_size=(40, 4, 4), offset=(0, 4, 8), chunks=(2, 16, 16)
    )
    assert isinstance(vol.data.wrapped, h5py.Dataset) and vol.data.chunks == (2, 16, 16)
    assert (vol.voxel_size, vol.offset) == ((40.0, 4.0, 4.0), (0.0, 4.0, 8.0))
    np.testing.assert_array_equal(vol.numpy(), IMAGE)
    vol.close()
    seg = write_volume(
        path,
        IMAGE.astype(np.int32),
        key="seg/cells",
        voxel_size=(40, 4, 4),
        kind="labels",
        attrs={"source": "test"},
    )
    assert (
        seg.dtype == np.uint32 and seg.attrs["kind"] == "labels" and seg.attrs["source"] == "test"
    )
    seg.close()
    with h5py.File(path) as f:
        assert sorted(f) == ["raw", "seg"] and list(f["seg"]) == ["cells"]
        assert list(f["raw"].attrs["resolution_nm_zyx"]) == [40, 4, 4]


def test_h5_overwrite_and_failures(tmp_path):
    path = tmp_path / "out.h5"
    write_volume(f"{path}:raw", IMAGE, voxel_size=1).close()
    with pytest.raises(VolsegError, match="out.h5:raw already exists; use --overwrite"):
        write_volume(f"{path}:raw", IMAGE, voxel_size=1)
    with pytest.raises(VolsegError, match="labels must be non-negative"):
        write_volume(f"{path}:bad", -np.ones((2, 2, 2), np.int16), voxel_size=1, kind="labels")
    with h5py.File(path) as f:
        assert list(f) == ["raw"]  # the failed dataset left nothing behind
    vol = write_volume(f"{path}:raw", IMAGE[:2], voxel_size=2, overwrite=True)
    assert vol.shape == (2, 30, 20) and vol.voxel_size == (2.0, 2.0, 2.0)
    vol.close()
    with pytest.raises(VolsegError, match="needs a dataset key, e.g."):
        write_volume(tmp_path / "k.h5", IMAGE, voxel_size=1)
    with pytest.raises(VolsegError, match="shards and pyramid levels need a zarr output"):
        write_volume(tmp_path / "k.h5:x", IMAGE, voxel_size=1, levels=2)
    with pytest.raises(VolsegError, match="labels must be non-negative"):
        write_volume(
            tmp_path / "new.h5:x", -np.ones((2, 2, 2), np.int16), voxel_size=1, kind="labels"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


def test_h5_open_for_reading_blocks_writing(tmp_path):
    path = tmp_path / "out.h5"
    reader = write_volume(f"{path}:a", IMAGE, voxel_size=1)
    with pytest.raises(VolsegError, match="cannot open .*out.h5 for writing .*close other handles"):
        write_volume(f"{path}:b", IMAGE, voxel_size=1)
    reader.close()
    write_volume(f"{path}:b", IMAGE, voxel_size=1).close()


def test_tif_round_trip_keeps_geometry(tmp_path):
    path = tmp_path / "out.tif"
    vol = write_volume(path, IMAGE, voxel_size=(40, 4, 4), offset=(1, 2, 3), attrs={"note": "x"})
    assert (vol.voxel_size, vol.offset, vol.attrs["note"]) == (
        (40.0, 4.0, 4.0),
        (1.0, 2.0, 3.0),
        "x",
    )
    np.testing.assert_array_equal(vol.numpy(), IMAGE)
    vol.close()
    assert tifffile.imread(path).shape == IMAGE.shape  # readable by other tools
    maps = np.stack([IMAGE, IMAGE]).astype(np.float32)
    out = write_volume(tmp_path / "maps.tif", maps, voxel_size=1, kind="maps")
    np.testing.assert_array_equal(out.numpy(), maps)
    out.close()
    with pytest.raises(VolsegError, match="already exists"):
        write_volume(path, IMAGE, voxel_size=1)
    with pytest.raises(VolsegError, match="tif outputs have no keys"):
        write_volume(f"{tmp_path}/k.tif:raw", IMAGE, voxel_size=1)
