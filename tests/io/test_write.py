import json

import dask.array as da
import numpy as np
import pytest
import zarr

from volseg.errors import VolsegError
from volseg.io import Volume, create_volume, is_complete, mark_complete, open_volume, write_volume
from volseg.io.pyramid import downsample_mode

RNG = np.random.default_rng(7)
IMAGE = RNG.integers(0, 255, (6, 70, 72)).astype(np.uint8)


def _labels(shape=(6, 70, 72)):
    """Two touching boxes and a thin plane: ids that a bad downsampler would mix."""
    labels = np.zeros(shape, np.int64)
    labels[:, 5:40, 5:40] = 3
    labels[:, 40:66, 10:60] = 2**33 + 1
    labels[:, :, 61] = 17
    return labels


def _meta(path):
    return json.loads((path / "zarr.json").read_text())["attributes"]


@pytest.mark.parametrize(
    "wrap",
    [
        np.asarray,
        lambda a: da.from_array(a, chunks=(2, 30, 30)),
        lambda a: Volume(a, voxel_size=(30, 5, 5), offset=(0, 10, 0)),
    ],
)
def test_image_round_trip_from_numpy_dask_and_volume(tmp_path, wrap):
    vol = write_volume(tmp_path / "img.zarr", wrap(IMAGE), voxel_size=(30, 5, 5), offset=(0, 10, 0))
    assert (vol.voxel_size, vol.offset, vol.dtype) == ((30.0, 5.0, 5.0), (0.0, 10.0, 0.0), np.uint8)
    np.testing.assert_array_equal(vol.numpy(), IMAGE)
    assert vol.attrs["complete"] and vol.attrs["kind"] == "image" and vol.attrs["n_levels"] == 2
    assert is_complete(tmp_path / "img.zarr")
    assert _meta(tmp_path / "img.zarr")["ome"]["version"] == "0.5"


def test_volume_geometry_is_inherited(tmp_path):
    source = Volume(
        IMAGE, voxel_size=(40, 4, 4), offset=(8, 8, 8), attrs={"note": "hi", "kind": "x"}
    )
    vol = write_volume(tmp_path / "v.zarr", source, levels=1)
    assert (vol.voxel_size, vol.offset) == ((40.0, 4.0, 4.0), (8.0, 8.0, 8.0))
    assert vol.attrs["note"] == "hi" and vol.attrs["kind"] == "image"


def test_labels_group_with_uint64_pyramid(tmp_path):
    store = tmp_path / "img.zarr"
    write_volume(store, IMAGE, voxel_size=(30, 5, 5))
    labels = _labels()
    vol = write_volume(store, labels, voxel_size=(30, 5, 5), kind="labels", key="labels/cells")
    assert vol.dtype == np.uint64 and vol.path == f"{store}:labels/cells"
    np.testing.assert_array_equal(vol.numpy(), labels)
    meta = _meta(store / "labels" / "cells")["ome"]
    assert meta["image-label"]["source"] == {"image": "../../"}
    assert meta["multiscales"][0]["type"] == "mode"
    assert _meta(store / "labels")["ome"]["labels"] == ["cells"]
    low = open_volume(store / "labels" / "cells", level=1)
    np.testing.assert_array_equal(low.numpy(), downsample_mode(labels.astype(np.uint64), (1, 2, 2)))
    assert set(np.unique(low.numpy())) <= set(np.unique(labels))  # no invented ids
    write_volume(store, labels % 5, voxel_size=(30, 5, 5), kind="labels", key="labels/other")
    assert _meta(store / "labels")["ome"]["labels"] == ["cells", "other"]
    assert open_volume(store, "labels/other").dtype == np.uint32
    assert open_volume(store).shape == IMAGE.shape  # the image is untouched


def test_mask_and_maps(tmp_path):
    mask = write_volume(tmp_path / "m.zarr", IMAGE > 100, voxel_size=5, kind="mask")
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask.numpy(), IMAGE > 100)
    # OME label images are integers: a mask in labels/ is stored as uint8 0/1
    lucchi_style = np.where(IMAGE > 100, 255, 0).astype(np.uint8)
    label = write_volume(
        tmp_path / "m.zarr", lucchi_style, voxel_size=5, kind="mask", key="labels/m"
    )
    assert label.dtype == np.uint8
    np.testing.assert_array_equal(label.numpy(), IMAGE > 100)
    maps = np.stack([IMAGE / 255.0] * 3).astype(np.float64)
    vol = write_volume(
        tmp_path / "p.zarr",
        maps,
        voxel_size=5,
        kind="maps",
        chunks=(4, 32, 32),
        attrs={"channels": ["fg", "boundary", "distance"], "quantisation": None},
    )
    assert vol.dtype == np.float32 and vol.shape == maps.shape
    assert vol.attrs["channels"] == ["fg", "boundary", "distance"]
    assert vol.data.chunks == (3, 4, 32, 32)
    axes = _meta(tmp_path / "p.zarr")["ome"]["multiscales"][0]["axes"]
    assert [a["name"] for a in axes] == ["c", "z", "y", "x"] and axes[0]["type"] == "channel"
    np.testing.assert_allclose(vol.numpy(), maps, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"data": IMAGE.astype(np.float32), "kind": "labels"},
            "labels must be integers, got float32",
        ),
        ({"data": -_labels(), "kind": "labels"}, "labels must be non-negative"),
        ({"data": IMAGE, "voxel_size": None}, "voxel_size .* is required"),
        ({"data": IMAGE, "voxel_size": (0, 1, 1)}, "voxel_size must be positive"),
        ({"data": IMAGE, "chunks": (4, 4)}, "chunks must have 3 entries"),
        ({"data": IMAGE, "chunks": (4, 0, 4)}, "chunks must be positive integers"),
        (
            {"data": IMAGE, "chunks": 4, "shards": (6, 8, 8)},
            r"shards \(6, 8, 8\) must be multiples",
        ),
        ({"data": IMAGE, "attrs": {"x": object()}}, "attrs must be JSON-serialisable"),
        (
            {"data": np.zeros((2, 3, 4, 4)), "kind": "maps", "attrs": {"channels": ["a"]}},
            "names 1 channels but the maps .* have 2",
        ),
        ({"data": IMAGE, "levels": 9}, "cannot make 9 pyramid levels"),
    ],
)
def test_bad_requests_write_nothing(tmp_path, kwargs, message):
    kwargs = {"voxel_size": 1, **kwargs}
    with pytest.raises(VolsegError, match=message):
        write_volume(tmp_path / "o.zarr", **kwargs)
    assert list(tmp_path.iterdir()) == []


class FailingArray:
    """Array-like that fails on the n-th read, as a crashing computation would."""

    def __init__(self, data, fail_at):
        self.data, self.shape, self.dtype = data, data.shape, data.dtype
        self.fail_at, self.calls = fail_at, 0

    def __getitem__(self, index):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("disk on fire")
        return self.data[index]


def _tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_failure_mid_write_leaves_no_output_and_no_temp(tmp_path, monkeypatch):
    import volseg.io.write_zarr as wz

    monkeypatch.setattr(wz, "LEVEL0_BYTES", 2 * 70 * 72)  # several blocks
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_volume(
            tmp_path / "new.zarr", FailingArray(IMAGE, 2), voxel_size=1, chunks=(2, 70, 72)
        )
    assert list(tmp_path.iterdir()) == []
    store = tmp_path / "img.zarr"
    write_volume(store, IMAGE, voxel_size=1, levels=1)
    before = _tree(store)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_volume(
            store, FailingArray(IMAGE, 2), voxel_size=1, overwrite=True, chunks=(2, 70, 72)
        )
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_volume(
            store,
            FailingArray(_labels(), 2),
            voxel_size=1,
            kind="labels",
            key="labels/cells",
            chunks=(2, 70, 72),
        )
    assert _tree(store) == before and sorted(p.name for p in tmp_path.iterdir()) == ["img.zarr"]
    np.testing.assert_array_equal(open_volume(store).numpy(), IMAGE)
    lazy = da.from_array(IMAGE, chunks=(2, 70, 72)).map_blocks(
        lambda b, block_info=None: b if block_info[0]["chunk-location"][0] < 1 else 1 / 0,
        dtype=np.uint8,
    )
    with pytest.raises(ZeroDivisionError):
        write_volume(store, lazy, voxel_size=1, key="pred", chunks=(2, 70, 72))
    assert _tree(store) == before


def test_existing_outputs_need_overwrite(tmp_path):
    store = tmp_path / "img.zarr"
    write_volume(store, IMAGE, voxel_size=1, levels=1)
    with pytest.raises(VolsegError, match="img.zarr already exists; use --overwrite"):
        write_volume(store, IMAGE, voxel_size=1)
    write_volume(store, IMAGE, voxel_size=1, key="labels/a", kind="labels", levels=1)
    with pytest.raises(VolsegError, match="img.zarr:labels/a already exists"):
        write_volume(store, IMAGE, voxel_size=1, key="labels/a", kind="labels")
    vol = write_volume(
        store, IMAGE[:, :10], voxel_size=1, key="labels/a", kind="labels", overwrite=True
    )
    assert vol.shape == (6, 10, 72) and _meta(store / "labels")["ome"]["labels"] == ["a"]
    vol = write_volume(store, IMAGE[:2], voxel_size=2, overwrite=True, levels=1)
    assert vol.shape == (2, 70, 72) and not (store / "labels").exists()


def test_sharded_write(tmp_path):
    vol = write_volume(
        tmp_path / "s.zarr", IMAGE, voxel_size=1, chunks=(2, 16, 16), shards=(4, 32, 32), levels=2
    )
    assert vol.data.shards == (4, 32, 32) and vol.data.chunks == (2, 16, 16)
    np.testing.assert_array_equal(vol.numpy(), IMAGE)
    assert zarr.open_group(tmp_path / "s.zarr", mode="r")["s1"].shards is not None


def test_create_volume_streamed_blocks_and_completion(tmp_path):
    store = tmp_path / "pred.zarr"
    vol = create_volume(
        store,
        shape=(3, 6, 70, 72),
        dtype="float32",
        chunks=(2, 32, 32),
        voxel_size=(30, 5, 5),
        kind="maps",
        attrs={"channels": ["a", "b", "c"]},
    )
    assert vol.data.chunks == (3, 2, 32, 32) and vol.voxel_size == (30.0, 5.0, 5.0)
    assert not is_complete(store) and vol.attrs["complete"] is False
    vol.data[:, 0:2] = 1.0
    vol.data[:, 2:] = 0.0  # a finished output has every block written
    mark_complete(vol)
    assert is_complete(store)
    again = open_volume(store)
    assert again[:, 0:2].min() == 1.0 and again[:, 2:].max() == 0.0
    assert again.attrs["channels"] == ["a", "b", "c"]
    seg = create_volume(
        store,
        key="labels/seg",
        shape=(6, 70, 72),
        dtype=np.uint64,
        chunks=32,
        voxel_size=(30, 5, 5),
        kind="labels",
    )
    assert seg.dtype == np.uint64 and not is_complete(store, "labels/seg")
    mark_complete(f"{store}:labels/seg")
    assert is_complete(f"{store}/labels/seg")
    assert _meta(store / "labels")["ome"]["labels"] == ["seg"]


def test_create_volume_errors_and_incomplete_paths(tmp_path):
    common = {"chunks": 8, "voxel_size": 1}
    for kwargs, message in [
        ({"shape": (4, 4, 4), "dtype": "float32", "kind": "labels"}, "stored as uint32 or uint64"),
        ({"shape": (4, 4), "dtype": "uint8", "kind": "image"}, "needs a 3D shape"),
        ({"shape": (4, 4, 4), "dtype": "complex64", "kind": "image"}, "a real dtype"),
        ({"shape": (4, 4, 4), "dtype": "uint8", "kind": "nope"}, "kind must be one of"),
    ]:
        with pytest.raises(VolsegError, match=message):
            create_volume(tmp_path / "c.zarr", **common, **kwargs)
    with pytest.raises(
        VolsegError, match=r"must be a zarr store \(e.g. out.zarr\); h5 output is not supported"
    ):
        create_volume(tmp_path / "c.h5:x", shape=(4, 4, 4), dtype="uint8", kind="image", **common)
    create_volume(tmp_path / "c.zarr", shape=(4, 4, 4), dtype="uint8", kind="image", **common)
    with pytest.raises(VolsegError, match="already exists"):
        create_volume(tmp_path / "c.zarr", shape=(4, 4, 4), dtype="uint8", kind="image", **common)
    assert not is_complete(tmp_path / "missing.zarr")
    assert not is_complete(tmp_path / "c.zarr", "nope")
    zarr.create_array(tmp_path / "arr.zarr", shape=(2,), dtype="u1")
    assert not is_complete(tmp_path / "arr.zarr")
    with pytest.raises(VolsegError, match="not an OME-Zarr group made by create_volume"):
        mark_complete(tmp_path / "arr.zarr")
