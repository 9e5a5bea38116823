import numpy as np
import pytest
import tifffile
import zarr

from volseg.errors import VolsegError
from volseg.io import open_volume
from volseg.napari.writer import as_labels, write_labels

META = {"scale": (1.0, 30.0, 8.0, 4.0), "translate": (0.0, 60.0, 16.0, 8.0)}


@pytest.fixture
def labels():
    out = np.zeros((1, 3, 5, 6), np.int64)  # a singleton leading axis, as napari layers may have
    out[0, 1, 1:4, 2:5] = 7
    out[0, 2, 0, 0] = 3
    return out


def test_zarr_is_uint32_ome_labels_without_singleton_axes(tmp_path, labels):
    path = tmp_path / "seg.zarr"
    assert write_labels(str(path), labels, META) == [str(path)]
    volume = open_volume(path)
    assert volume.shape == (3, 5, 6) and volume.dtype == np.uint32
    assert volume.voxel_size == (30.0, 8.0, 4.0) and volume.offset == (60.0, 16.0, 8.0)
    assert volume.attrs["kind"] == "labels"
    np.testing.assert_array_equal(volume.numpy(), labels[0])
    group = zarr.open_group(str(path), mode="r")
    assert group["s0"].dtype == np.uint32 and group["s0"].shape == (3, 5, 6)


def test_tif_is_a_plain_uint32_stack(tmp_path, labels):
    path = tmp_path / "seg.tif"
    write_labels(path, labels, META)
    with tifffile.TiffFile(path) as tif:
        assert len(tif.pages) == 3
        data = tif.asarray()
    assert data.dtype == np.uint32 and data.shape == (3, 5, 6)
    np.testing.assert_array_equal(data, labels[0])
    assert open_volume(path).voxel_size == (30.0, 8.0, 4.0)


def test_2d_labels_go_to_tif_only(tmp_path):
    plane = np.arange(12, dtype=np.uint16).reshape(1, 3, 4)
    write_labels(tmp_path / "p.tiff", plane, {"scale": (1, 2, 3)})
    data = tifffile.imread(tmp_path / "p.tiff")
    assert data.dtype == np.uint32 and data.shape == (3, 4)
    np.testing.assert_array_equal(data, plane[0])
    with pytest.raises(VolsegError, match="save them as .tif"):
        write_labels(tmp_path / "p.zarr", plane, {})


def test_large_ids_widen_to_uint64_and_whole_floats_pass(tmp_path):
    big = np.zeros((2, 2, 2), np.uint64)
    big[0, 0, 0] = 2**40
    write_labels(tmp_path / "big.zarr", big, {})
    assert open_volume(tmp_path / "big.zarr").dtype == np.uint64
    assert as_labels(np.array([[0.0, 2.0]])).dtype == np.uint32
    assert as_labels(np.ones((2, 2), bool)).dtype == np.uint32
    assert as_labels([np.arange(4, dtype=np.int8)]).tolist() == [0, 1, 2, 3]  # multiscale


def test_existing_output_is_replaced(tmp_path, labels):
    write_labels(tmp_path / "seg.zarr", labels, META)
    write_labels(tmp_path / "seg.zarr", labels * 2, META)
    assert open_volume(tmp_path / "seg.zarr").numpy().max() == 14


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.png", np.zeros((2, 2, 2), np.uint8), "use a name ending in"),
        ("x.zarr", -np.ones((2, 2, 2), np.int32), "must be >= 0"),
        ("x.zarr", np.full((2, 2, 2), 0.5), "whole numbers"),
        ("x.zarr", np.zeros((2, 2, 2), "U1"), "must be integers"),
        ("x.zarr", np.zeros((2, 2, 2, 2), np.uint8), "non-singleton axes"),
        ("x.tif", np.zeros((1, 1, 5), np.uint8), "non-singleton axes"),
        ("x.zarr", np.zeros((0, 2, 2), np.uint8), "empty"),
    ],
)
def test_bad_labels_are_one_clear_error(tmp_path, name, data, message):
    with pytest.raises(VolsegError, match=message):
        write_labels(tmp_path / name, data, {})
    assert not (tmp_path / name).exists()


def test_npe2_writes_a_napari_labels_layer(tmp_path, labels, volseg_pm):
    import npe2
    from napari.layers import Labels

    layer = Labels(labels[0].astype(np.int32), scale=(30, 8, 4))
    written = npe2.write(str(tmp_path / "out.zarr"), [layer], plugin_name="volseg")
    assert written == [str(tmp_path / "out.zarr")]
    volume = open_volume(tmp_path / "out.zarr")
    assert volume.dtype == np.uint32 and volume.voxel_size == (30.0, 8.0, 4.0)
