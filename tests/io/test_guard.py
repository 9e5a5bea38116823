"""Outputs never overlap inputs; --overwrite replaces only what volseg wrote."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.io import write_volume
from volseg.io.guard import check_replaceable, overlap, refuse_overlap

IMAGE = np.arange(4 * 8 * 8, dtype=np.uint8).reshape(4, 8, 8)


@pytest.mark.parametrize(
    ("out", "source", "relation"),
    [
        ("v.zarr", "v.zarr", "is"),
        ("v.zarr", "./sub/../v.zarr", "is"),
        ("v.zarr", "v.zarr/raw", "contains"),
        ("v.zarr:maps", "v.zarr", "is inside"),
        ("S.zarr", "S.zarr/maps", "contains"),
        ("S.zarr/labels/seg", "S.zarr:labels", "is inside"),
        ("S.zarr:maps", "S.zarr:raw", None),
        ("f.h5:pred", "f.h5:raw", None),
        ("f.h5:raw", "f.h5:raw", "is"),
        ("f.h5:a", "f.h5:a/b", "contains"),
        ("other.zarr", "v.zarr", None),
        ("v.tif", "v.tif", "is"),
    ],
)
def test_overlap_relations(tmp_path, monkeypatch, out, source, relation):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert overlap(out, source) == relation


def test_symlinked_input_is_the_same_store(tmp_path):
    write_volume(tmp_path / "v.zarr", IMAGE, voxel_size=(1, 1, 1))
    (tmp_path / "link.zarr").symlink_to(tmp_path / "v.zarr")
    with pytest.raises(VolsegError, match=r"link\.zarr is the image .*v\.zarr; volseg never"):
        refuse_overlap(tmp_path / "link.zarr", {"image": tmp_path / "v.zarr"})


def test_urls_and_none_are_skipped(tmp_path):
    refuse_overlap(tmp_path / "o.zarr", {"image": "s3://bucket/v.zarr", "mask": None})


def test_overwrite_replaces_volseg_output_of_same_kind(tmp_path):
    out = tmp_path / "pred.zarr"
    write_volume(out, IMAGE, voxel_size=(1, 1, 1))
    check_replaceable(out, kind="image")
    write_volume(out, IMAGE[::-1], voxel_size=(1, 1, 1), overwrite=True)
    with pytest.raises(VolsegError, match="holds image, not labels; --overwrite replaces only"):
        write_volume(out, IMAGE.astype(np.uint32), voxel_size=(1, 1, 1), kind="labels",
                     overwrite=True)  # fmt: skip


def test_overwrite_refuses_foreign_zarr_and_keeps_bytes(tmp_path):
    out = tmp_path / "user.zarr"
    arr = zarr.create_array(out, shape=IMAGE.shape, dtype="uint8", chunks=(4, 8, 8))
    arr[...] = IMAGE
    before = sorted((p.name, p.read_bytes()) for p in out.rglob("*") if p.is_file())
    with pytest.raises(VolsegError, match="user.zarr exists and it holds data volseg did not"):
        write_volume(out, IMAGE, voxel_size=(1, 1, 1), overwrite=True)
    after = sorted((p.name, p.read_bytes()) for p in out.rglob("*") if p.is_file())
    assert before == after


def test_overwrite_refuses_store_with_foreign_node_inside(tmp_path):
    out = tmp_path / "mixed.zarr"
    write_volume(out, IMAGE, voxel_size=(1, 1, 1))
    group = zarr.open_group(out, mode="r+")
    group.create_array("extra", shape=(2,), dtype="uint8")[...] = 1
    with pytest.raises(VolsegError, match="extra was not written by volseg"):
        check_replaceable(out, kind="image")


def test_overwrite_h5_dataset_only_when_volseg_wrote_it(tmp_path):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        f["raw"] = IMAGE
    with pytest.raises(VolsegError, match=r"f\.h5:raw exists and it was not written by volseg"):
        write_volume(f"{path}:raw", IMAGE, voxel_size=(1, 1, 1), overwrite=True)
    write_volume(f"{path}:pred", IMAGE, voxel_size=(1, 1, 1))
    write_volume(f"{path}:pred", IMAGE[::-1], voxel_size=(1, 1, 1), overwrite=True)
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["raw"][...], IMAGE)
        np.testing.assert_array_equal(f["pred"][...], IMAGE[::-1])


def test_overwrite_tif_only_when_volseg_wrote_it(tmp_path):
    import tifffile

    path = tmp_path / "user.tif"
    tifffile.imwrite(path, IMAGE)
    with pytest.raises(VolsegError, match="user.tif exists and it was not written by volseg"):
        write_volume(path, IMAGE, voxel_size=(1, 1, 1), overwrite=True)
    ours = tmp_path / "ours.tif"
    write_volume(ours, IMAGE, voxel_size=(1, 1, 1))
    write_volume(ours, IMAGE[::-1], voxel_size=(1, 1, 1), overwrite=True)


def test_write_volume_refuses_to_copy_a_volume_onto_itself(tmp_path):
    from volseg.io import open_volume

    write_volume(tmp_path / "v.zarr", IMAGE, voxel_size=(1, 1, 1))
    vol = open_volume(tmp_path / "v.zarr")
    with pytest.raises(VolsegError, match="is the data"):
        write_volume(tmp_path / "v.zarr", vol, overwrite=True)
    np.testing.assert_array_equal(open_volume(tmp_path / "v.zarr").numpy(), IMAGE)


def test_plain_files_and_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert overlap("pred.zarr", "m.pt") is None
    assert overlap("runs/exp", "runs") == "is inside"
    assert overlap("slices/out.zarr", "slices/*.tif") == "is inside"
