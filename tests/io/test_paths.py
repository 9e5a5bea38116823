from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.io.paths import locate, locate_for_write


@pytest.fixture
def files(tmp_path):
    with h5py.File(tmp_path / "f.h5", "w") as f:
        f["raw"] = np.zeros((2, 2, 2), np.uint8)
    root = zarr.open_group(tmp_path / "x.zarr", mode="w")
    root.create_group("labels").create_array("cells", shape=(2, 2, 2), dtype="u1")
    (tmp_path / "slices").mkdir()
    (tmp_path / "slices" / "a.tif").write_bytes(b"")
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    return tmp_path


def test_h5_key_spellings(files):
    expected = ("h5", files / "f.h5", "raw")
    for spelling, key in [(f"{files}/f.h5:raw", None), (f"{files}/f.h5/raw", None)]:
        loc = locate(spelling, key)
        assert (loc.fmt, loc.target, loc.key) == expected
    loc = locate(files / "f.h5", "raw")
    assert (loc.fmt, loc.target, loc.key) == expected
    assert locate(f"file://{files}/f.h5").key is None


def test_zarr_key_spellings_use_the_outermost_store(files):
    for spelling in (f"{files}/x.zarr:labels/cells", f"{files}/x.zarr/labels/cells"):
        loc = locate(spelling)
        assert (loc.fmt, loc.target, loc.key) == ("zarr", files / "x.zarr", "labels/cells")
        assert loc.label == f"{files / 'x.zarr'}:labels/cells"


def test_tif_stack_forms(files):
    assert locate(files / "slices").fmt == "tif-stack"
    loc = locate(f"{files}/slices/*.tif")
    assert (loc.fmt, loc.target) == ("tif-stack", Path(f"{files}/slices/*.tif"))


def test_store_objects_and_urls_go_to_zarr():
    store = zarr.storage.MemoryStore()
    assert locate(store, "a").fmt == "zarr"
    loc = locate("s3://bucket/x.zarr", "raw")
    assert (loc.fmt, loc.target, loc.key) == ("zarr", "s3://bucket/x.zarr", "raw")
    loc = locate("https://host/data/x.zarr:labels/cells")
    assert (loc.target, loc.key) == ("https://host/data/x.zarr", "labels/cells")


@pytest.mark.parametrize(
    ("spelling", "key", "message"),
    [
        ("missing.h5", None, "does not exist"),
        ("notes.txt", None, "unknown volume format"),
        ("empty", None, "neither a zarr store nor a folder of tif slices"),
        ("f.h5:raw", "labels", "give one"),
        ("slices", "k", "takes no key"),
        ("slices/*.tif", "k", "takes no key"),
    ],
)
def test_locate_errors(files, spelling, key, message):
    with pytest.raises(VolsegError, match=message):
        locate(f"{files}/{spelling}", key)


def test_locate_rejects_other_objects():
    with pytest.raises(VolsegError, match="expected a path"):
        locate(42)


def test_locate_for_write_splits_without_existing_files(tmp_path):
    loc = locate_for_write(tmp_path / "new.zarr" / "labels" / "cells")
    assert (loc.fmt, loc.target, loc.key) == ("zarr", tmp_path / "new.zarr", "labels/cells")
    loc = locate_for_write(f"{tmp_path}/new.h5:raw")
    assert (loc.fmt, loc.target, loc.key) == ("h5", tmp_path / "new.h5", "raw")
    assert locate_for_write(tmp_path / "a.tiff").fmt == "tif"


@pytest.mark.parametrize(
    ("path", "message"),
    [("out.png", "cannot tell the output format"), ("https://host/x.zarr", "not supported")],
)
def test_locate_for_write_errors(tmp_path, path, message):
    with pytest.raises(VolsegError, match=message):
        locate_for_write(path if "://" in path else tmp_path / path)
    with pytest.raises(VolsegError, match="local paths"):
        locate_for_write(zarr.storage.MemoryStore())
