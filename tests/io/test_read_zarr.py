import numpy as np
import pytest
import zarr
from zarr.storage import LocalStore, WrapperStore

from volseg.errors import VolsegError
from volseg.io import open_volume, write_volume

RAW = np.arange(8 * 12 * 16, dtype=np.uint16).reshape(8, 12, 16)


class CountingStore(WrapperStore):
    """A read-only store wrapper that records every key read (chunk keys included)."""

    def __init__(self, store, log=None):
        super().__init__(store)
        self.log = [] if log is None else log

    def _with_store(self, store):
        return type(self)(store, self.log)

    async def get(self, key, prototype, byte_range=None):
        self.log.append(key)
        return await self._store.get(key, prototype, byte_range)

    async def get_partial_values(self, prototype, key_ranges):
        key_ranges = list(key_ranges)
        self.log.extend(k for k, _ in key_ranges)
        return await self._store.get_partial_values(prototype, key_ranges)

    def chunk_reads(self, prefix):
        return sorted(k for k in self.log if k.startswith(prefix) and "/c/" in k)


def test_v2_and_v3_arrays_and_groups(tmp_path):
    for fmt in (2, 3):
        root = zarr.open_group(tmp_path / f"v{fmt}.zarr", mode="w", zarr_format=fmt)
        arr = root.create_array("inner/raw", shape=RAW.shape, dtype=RAW.dtype, chunks=(4, 4, 4))
        arr[...] = RAW
        arr.attrs["resolution"] = [30, 6, 6]
        for spelling in (f"{tmp_path}/v{fmt}.zarr/inner/raw", f"{tmp_path}/v{fmt}.zarr:inner/raw"):
            vol = open_volume(spelling)
            assert (
                vol.voxel_size == (30.0, 6.0, 6.0)
                and vol.attrs["voxel_size_source"] == "attrs:resolution"
            )
            np.testing.assert_array_equal(vol[2:5, 3:9, :], RAW[2:5, 3:9, :])
        bare = zarr.create_array(
            tmp_path / f"bare{fmt}.zarr", shape=(2, 3, 4), dtype="f4", zarr_format=fmt
        )
        bare[...] = 0.0  # every chunk on disk: a never-written array has none (test_checked)
        assert open_volume(tmp_path / f"bare{fmt}.zarr").attrs["voxel_size_source"] == "default"
        assert bare.shape == (2, 3, 4)


def _write_ome_04(path):
    """OME-Zarr 0.4 as other tools write it: zarr v2, ``multiscales`` at the top level."""
    root = zarr.open_group(path, mode="w", zarr_format=2)
    for level, factor in enumerate((1, 2)):
        data = RAW[:, ::factor, ::factor]
        root.create_array(str(level), shape=data.shape, dtype=data.dtype, chunks=(4, 4, 4))[...] = (
            data
        )
    axes = [{"name": n, "type": "space", "unit": "micrometer"} for n in "zyx"]
    datasets = [
        {
            "path": str(level),
            "coordinateTransformations": [
                {"type": "scale", "scale": [0.05, 0.01 * f, 0.01 * f]},
                {"type": "translation", "translation": [0.1, 0.005 * (f - 1), 0.005 * (f - 1)]},
            ],
        }
        for level, f in enumerate((1, 2))
    ]
    root.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    root.attrs["resolution"] = [999, 999, 999]  # OME metadata wins over plain attributes
    return path


def test_ome_04_group_levels_and_arrays(tmp_path):
    path = _write_ome_04(tmp_path / "img.ome.zarr")
    vol = open_volume(path)
    assert vol.shape == RAW.shape and vol.attrs["voxel_size_source"] == "ome"
    assert vol.voxel_size == pytest.approx((50.0, 10.0, 10.0))
    assert vol.offset == pytest.approx((100.0, 0.0, 0.0))
    np.testing.assert_array_equal(vol.numpy(), RAW)
    low = open_volume(path, level=1)
    assert low.shape == (8, 6, 8) and low.voxel_size == pytest.approx((50.0, 20.0, 20.0))
    assert low.offset == pytest.approx((100.0, 5.0, 5.0))
    direct = open_volume(f"{path}/1")  # an array of the pyramid keeps the group's geometry
    assert (
        direct.voxel_size == pytest.approx(low.voxel_size)
        and direct.attrs["voxel_size_source"] == "ome"
    )
    assert open_volume(path, voxel_size=2).voxel_size == (2.0, 2.0, 2.0)


def test_ome_04_label_group(tmp_path):
    path = _write_ome_04(tmp_path / "img.zarr")
    root = zarr.open_group(path, mode="r+")
    root.create_group("labels", attributes={"labels": ["cells"]})
    cells = root.create_group("labels/cells")
    cells.create_array("0", shape=RAW.shape, dtype="u4", chunks=(4, 4, 4))[...] = RAW % 5
    axes = [{"name": n, "type": "space", "unit": "nanometer"} for n in "zyx"]
    scale = [{"type": "scale", "scale": [50, 10, 10]}]
    cells.attrs.update(
        multiscales=[
            {
                "version": "0.4",
                "axes": axes,
                "datasets": [{"path": "0", "coordinateTransformations": scale}],
            }
        ],
        **{"image-label": {"version": "0.4", "source": {"image": "../../"}}},
    )
    vol = open_volume(f"{path}:labels/cells")
    assert vol.voxel_size == (50.0, 10.0, 10.0) and vol.dtype == np.uint32
    np.testing.assert_array_equal(vol[4:], RAW[4:] % 5)


def test_ome_05_written_by_volseg_with_labels(tmp_path):
    path = tmp_path / "img.zarr"
    write_volume(path, RAW, voxel_size=(40, 4, 4), offset=(0, 8, 8), levels=1)
    labels = (RAW % 3).astype(np.uint32)
    write_volume(
        path,
        labels,
        voxel_size=(40, 4, 4),
        offset=(0, 8, 8),
        kind="labels",
        key="labels/cells",
        levels=1,
    )
    vol = open_volume(f"{path}/labels/cells")
    assert vol.offset == (0.0, 8.0, 8.0) and vol.attrs["kind"] == "labels"
    np.testing.assert_array_equal(vol.numpy(), labels)


def test_crop_reads_only_the_chunks_it_touches(tmp_path):
    path = tmp_path / "lazy.zarr"
    write_volume(path, RAW, voxel_size=(1, 1, 1), chunks=(4, 4, 4), levels=1)
    store = CountingStore(LocalStore(path, read_only=True))
    vol = open_volume(store)
    assert vol.shape == RAW.shape and store.chunk_reads("s0") == []  # opening reads no chunks
    crop = vol[1:3, 5:7, 9:14]  # z chunk 0, y chunk 1, x chunks 2 and 3
    np.testing.assert_array_equal(crop, RAW[1:3, 5:7, 9:14])
    assert store.chunk_reads("s0") == ["s0/c/0/1/2", "s0/c/0/1/3"]


def test_crop_of_a_sharded_array_reads_only_its_shard(tmp_path):
    path = tmp_path / "sharded.zarr"
    write_volume(path, RAW, voxel_size=1, chunks=(4, 4, 4), shards=(8, 4, 8), levels=1)
    store = CountingStore(LocalStore(path, read_only=True))
    vol = open_volume(store)
    np.testing.assert_array_equal(vol[0:2, 0:2, 0:2], RAW[0:2, 0:2, 0:2])
    assert set(store.chunk_reads("s0")) == {"s0/c/0/0/0"}


def test_url_through_fsspec():
    root = zarr.open_group("memory://volseg-url-test.zarr", mode="w")
    root.create_array("raw", shape=RAW.shape, dtype=RAW.dtype)[...] = RAW
    vol = open_volume("memory://volseg-url-test.zarr", "raw")
    np.testing.assert_array_equal(vol[3], RAW[3])


def test_group_without_ome_needs_a_key(tmp_path):
    root = zarr.open_group(tmp_path / "g.zarr", mode="w")
    root.create_array("a", shape=(2, 2, 2), dtype="u1")
    root.create_array("b/c", shape=(2, 2, 2), dtype="u1")
    with pytest.raises(
        VolsegError,
        match=r"without OME-Zarr multiscales; name one of its arrays \['a', 'b/c'\] after a "
        r"colon, e.g. .*g.zarr:a\.",
    ):
        open_volume(tmp_path / "g.zarr")
    with pytest.raises(
        VolsegError, match=r"key 'zz' not found in .*g.zarr; available arrays: \['a', 'b/c'\]"
    ):
        open_volume(tmp_path / "g.zarr", "zz")
    with pytest.raises(VolsegError, match="is an array"):
        open_volume(tmp_path / "g.zarr", "a", level=1)


def test_array_has_no_keys_and_levels_must_exist(tmp_path):
    zarr.create_array(tmp_path / "a.zarr", shape=(2, 2, 2), dtype="u1")
    with pytest.raises(VolsegError, match="is a zarr array and has no key 'x'"):
        open_volume(tmp_path / "a.zarr", "x")
    path = _write_ome_04(tmp_path / "img.zarr")
    with pytest.raises(VolsegError, match="level 2 does not exist .* levels 0..1"):
        open_volume(path, level=2)


def test_broken_stores(tmp_path):
    broken = tmp_path / "broken.zarr"
    broken.mkdir()
    (broken / "zarr.json").write_text("{not json")
    with pytest.raises(VolsegError, match=f"cannot read {broken}: not a valid zarr array or group"):
        open_volume(broken)
    empty = tmp_path / "empty.zarr"
    empty.mkdir()
    with pytest.raises(VolsegError, match=f"cannot read {empty}: not a valid zarr"):
        open_volume(empty)
    path = _write_ome_04(tmp_path / "img.zarr")
    group = zarr.open_group(path, mode="r+")
    del group["1"]
    with pytest.raises(VolsegError, match="OME level path '1' is missing"):
        open_volume(path, level=1)
