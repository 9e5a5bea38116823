import numpy as np
import pytest
import tifffile

from volseg.errors import VolsegError
from volseg.io import open_volume
from volseg.io.read_tif import TifSliceStack

RAW = np.arange(5 * 6 * 7, dtype=np.uint16).reshape(5, 6, 7)


def test_multipage_tif_is_lazy_with_imagej_voxel_size(tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(
        path,
        RAW.astype(np.float32),
        imagej=True,
        resolution=(1 / 0.004, 1 / 0.004),
        metadata={"spacing": 0.04, "unit": "micron", "axes": "ZYX"},
    )
    with open_volume(path) as vol:
        assert vol.shape == RAW.shape and vol.dtype == np.float32
        assert not isinstance(vol.data, np.ndarray)  # a zarr view of the pages
        assert vol.voxel_size == pytest.approx((40.0, 4.0, 4.0))
        assert vol.attrs["voxel_size_source"] == "imagej"
        np.testing.assert_array_equal(vol[2:4, 1:3, 4:], RAW[2:4, 1:3, 4:])


def test_plain_tif_has_default_voxel_size(tmp_path):
    path = tmp_path / "plain.tiff"
    tifffile.imwrite(path, RAW)
    vol = open_volume(path, ndim=3)
    assert vol.attrs["voxel_size_source"] == "default"
    np.testing.assert_array_equal(vol.numpy(), RAW)
    vol.close()


def test_invalid_tif(tmp_path):
    path = tmp_path / "bad.tif"
    path.write_bytes(b"II*\x00garbage")
    with pytest.raises(VolsegError, match=f"cannot read {path}: not a valid TIFF file"):
        open_volume(path)
    with pytest.raises(VolsegError, match="tif files have no keys"):
        open_volume(path, "k")


def _slices(folder, count=12):
    folder.mkdir()
    data = np.stack([np.full((4, 5), z, np.uint8) for z in range(count)])
    for z in range(count):  # natural order: slice_2 before slice_10
        tifffile.imwrite(folder / f"slice_{z}.tif", data[z])
    (folder / "README.txt").write_text("not a slice")
    return data


def test_slice_folder_and_glob(tmp_path):
    data = _slices(tmp_path / "slices")
    vol = open_volume(tmp_path / "slices", voxel_size=(30, 4, 4))
    assert isinstance(vol.data.wrapped, TifSliceStack) and vol.shape == data.shape
    assert vol.attrs["voxel_size_source"] == "argument"
    np.testing.assert_array_equal(vol.numpy(), data)
    same = open_volume(f"{tmp_path}/slices/slice_*.tif")
    np.testing.assert_array_equal(same[2:11:3, 1:3], data[2:11:3, 1:3])
    assert same.attrs["voxel_size_source"] == "default"


@pytest.mark.parametrize(
    "index",
    [
        5,
        -1,
        (3, 2),
        (slice(1, 9, 2), 2, slice(None, None, -1)),
        (Ellipsis, 1),
        [0, 7, 3],
        (slice(4, 4),),
        (Ellipsis,),
        (2, Ellipsis, 3),
    ],
)
def test_slice_stack_indexing_matches_numpy(tmp_path, index):
    data = _slices(tmp_path / "s")
    vol = open_volume(tmp_path / "s")
    np.testing.assert_array_equal(vol.data[index], data[index])


def test_slice_stack_reads_only_requested_slices(tmp_path, monkeypatch):
    data = _slices(tmp_path / "s")
    vol = open_volume(tmp_path / "s")
    read = []
    original = tifffile.imread
    monkeypatch.setattr(
        tifffile, "imread", lambda f, **kw: read.append(f.name) or original(f, **kw)
    )
    np.testing.assert_array_equal(vol[3:5, :2], data[3:5, :2])
    assert read == ["slice_3.tif", "slice_4.tif"]


def test_slice_stack_errors(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    tifffile.imwrite(folder / "a1.tif", np.zeros((4, 5), np.uint8))
    tifffile.imwrite(folder / "a2.tif", np.zeros((4, 6), np.uint8))
    with pytest.raises(
        VolsegError, match=r"a2.tif is \(4, 6\) uint8, but a1.tif is \(4, 5\) uint8"
    ):
        open_volume(folder)
    with pytest.raises(VolsegError, match="matches no tif files"):
        open_volume(f"{tmp_path}/none_*.tif")
    (folder / "notes.txt").write_text("x")
    with pytest.raises(VolsegError, match="notes.txt"):
        open_volume(f"{folder}/*")
    rgb = tmp_path / "rgb"
    rgb.mkdir()
    tifffile.imwrite(rgb / "a.tif", np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(VolsegError, match="needs 2D grayscale slices"):
        open_volume(rgb)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.tif").write_bytes(b"junk")
    with pytest.raises(VolsegError, match="not a valid TIFF file"):
        open_volume(junk)


def test_slice_changed_after_opening(tmp_path):
    data = _slices(tmp_path / "s", count=3)
    vol = open_volume(tmp_path / "s")
    tifffile.imwrite(tmp_path / "s" / "slice_1.tif", np.zeros((2, 2), np.uint8))
    np.testing.assert_array_equal(vol[0], data[0])
    with pytest.raises(VolsegError, match=r"slice_1.tif is \(2, 2\) uint8, but the stack is"):
        vol[1]
