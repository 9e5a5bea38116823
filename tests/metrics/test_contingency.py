import dask.array as da
import h5py
import numpy as np
import pytest
import zarr

from tests.metrics.conftest import count_pairs, random_labels
from volseg.errors import VolsegError
from volseg.io.volume import Volume
from volseg.metrics import Contingency, contingency


def as_dict(table: Contingency) -> dict[tuple[int, int], int]:
    return {
        (int(s), int(g)): int(c)
        for s, g, c in zip(table.seg_ids, table.gt_ids, table.counts, strict=True)
    }


def check_consistent(table: Contingency) -> None:
    """Row/column sums, index arrays and sort order agree with the pair list."""
    assert np.array_equal(table.seg_labels[table.seg_index], table.seg_ids)
    assert np.array_equal(table.gt_labels[table.gt_index], table.gt_ids)
    for labels, ids, sizes in (
        (table.seg_labels, table.seg_ids, table.seg_sizes),
        (table.gt_labels, table.gt_ids, table.gt_sizes),
    ):
        expected = [int(table.counts[ids == v].sum()) for v in labels]
        assert sizes.tolist() == expected
    order = np.lexsort((table.gt_ids, table.seg_ids))
    assert np.array_equal(order, np.arange(order.size))


@pytest.mark.parametrize("blocky", [True, False])
@pytest.mark.parametrize(
    "dtypes", [(np.uint32, np.uint32), (np.uint8, np.uint64), (np.int64, np.uint16)]
)
def test_one_pass_matches_reference(rng, blocky, dtypes):
    seg = random_labels(rng, (6, 9, 11), 7, dtype=dtypes[0], blocky=blocky)
    gt = random_labels(rng, (6, 9, 11), 5, dtype=dtypes[1], blocky=blocky)
    table = contingency(seg, gt)
    assert as_dict(table) == count_pairs(seg, gt)
    assert table.n_voxels == seg.size
    check_consistent(table)


def test_uint64_ids_above_2_32_and_mask(rng):
    seg = random_labels(rng, (5, 8, 8), 6, offset=2**40, dtype=np.uint64)
    gt = random_labels(rng, (5, 8, 8), 4, offset=2**63 + 7, dtype=np.uint64)
    mask = rng.random(seg.shape) < 0.6
    table = contingency(seg, gt, mask=mask)
    assert as_dict(table) == count_pairs(seg, gt, mask)
    assert table.n_voxels == mask.sum()
    assert int(table.gt_labels.max()) > 2**63
    check_consistent(table)


def test_many_distinct_pairs_grow_the_table(rng):
    seg = rng.integers(0, 3000, (4, 40, 40)).astype(np.uint32)
    gt = rng.integers(0, 3000, (4, 40, 40)).astype(np.uint32)
    table = contingency(seg, gt)
    assert table.counts.size > 4096  # more than the initial capacity
    assert as_dict(table) == count_pairs(seg, gt)
    masked = contingency(seg, gt, mask=seg % 2 == 0)
    assert as_dict(masked) == count_pairs(seg, gt, seg % 2 == 0)


def test_lazy_inputs_read_in_slabs_equal_one_pass(rng, tmp_path):
    shape = (13, 10, 12)
    seg = random_labels(rng, shape, 9, offset=2**33, dtype=np.uint64)
    gt = random_labels(rng, shape, 6)
    mask = rng.random(shape) < 0.7
    expected = as_dict(contingency(seg, gt, mask=mask))
    z_seg = zarr.create_array(tmp_path / "s.zarr", shape=shape, chunks=(2, 10, 12), dtype=seg.dtype)
    z_seg[...] = seg
    with h5py.File(tmp_path / "g.h5", "w") as f:
        f.create_dataset("gt", data=gt, chunks=(3, 5, 6))
        f.create_dataset("mask", data=mask)
    with h5py.File(tmp_path / "g.h5", "r") as f:
        for slab_z in (None, 1, 4, 13, 50):
            got = contingency(z_seg, f["gt"], mask=f["mask"], slab_z=slab_z)
            assert as_dict(got) == expected
        vol = Volume(da.from_array(seg, chunks=(5, 10, 12)), path="seg.zarr")
        assert as_dict(contingency(vol, f["gt"], mask=Volume(mask))) == expected


class Recorder:
    """A lazy array-like that records which z-ranges were read."""

    def __init__(self, data, chunks):
        self.data, self.chunks, self.reads = data, chunks, []
        self.shape, self.dtype = data.shape, data.dtype

    def __getitem__(self, index):
        self.reads.append((index.start, index.stop))
        return self.data[index]


def test_default_slabs_are_whole_chunks(rng, monkeypatch):
    from volseg.metrics import _inputs

    seg = random_labels(rng, (11, 5, 6), 6)
    gt = random_labels(rng, (11, 5, 6), 3)
    monkeypatch.setattr(_inputs, "SLAB_VOXELS", 200)  # 200 // (3 * 30) = 2 chunks of 3 planes
    lazy = Recorder(seg, (3, 5, 6))
    assert as_dict(contingency(lazy, gt)) == count_pairs(seg, gt)
    assert lazy.reads == [(0, 6), (6, 11)]


def test_from_pairs_merges_duplicates_and_drop():
    table = Contingency.from_pairs([3, 1, 3, 1, 2], [5, 0, 5, 4, 4], [2, 1, 3, 0, 6])
    assert as_dict(table) == {(1, 0): 1, (2, 4): 6, (3, 5): 5}
    assert repr(table) == "Contingency(pairs=3, seg_labels=3, gt_labels=3, voxels=12)"
    check_consistent(table)
    dropped = table.drop(gt_labels=[0], seg_labels=[2])
    assert as_dict(dropped) == {(3, 5): 5}
    assert table.drop() is table
    dense = table.to_sparse().toarray()
    assert dense.shape == (3, 3)
    assert dense.sum() == 12 and dense[2, 2] == 5


def test_big_endian_and_sharded_inputs(rng, tmp_path):
    seg = random_labels(rng, (8, 6, 7), 5)
    gt = random_labels(rng, (8, 6, 7), 4)
    expected = count_pairs(seg, gt)
    assert as_dict(contingency(seg.astype(">u4"), gt.astype(">i8"))) == expected
    z = zarr.create_array(
        tmp_path / "sharded.zarr", shape=seg.shape, dtype=seg.dtype, chunks=(1, 6, 7),
        shards=(4, 6, 7),
    )  # fmt: skip
    z[...] = seg
    assert as_dict(contingency(z, gt)) == expected


def test_bool_labels_and_empty_volume():
    seg = np.array([[True, False], [True, True]])
    gt = np.array([[1, 0], [2, 2]], np.uint8)
    assert as_dict(contingency(seg, gt)) == {(1, 1): 1, (0, 0): 1, (1, 2): 2}
    empty = contingency(np.zeros((0, 3), np.uint32), np.zeros((0, 3), np.uint32))
    assert empty.n_voxels == 0 and empty.seg_labels.size == 0


def test_failure_paths():
    a = np.zeros((2, 3, 4), np.uint32)
    with pytest.raises(VolsegError, match=r"shape \(2, 3, 4\) but gt has shape \(2, 3, 5\)"):
        contingency(a, np.zeros((2, 3, 5), np.uint32))
    with pytest.raises(VolsegError, match="seg must hold integer labels.*float32"):
        contingency(a.astype(np.float32), a)
    with pytest.raises(VolsegError, match="gt.*negative label -3"):
        contingency(a, np.full(a.shape, -3, np.int32))
    with pytest.raises(VolsegError, match="mask must be boolean or integer"):
        contingency(a, a, mask=a.astype(float))
    with pytest.raises(VolsegError, match="mask has shape"):
        contingency(a, a, mask=np.ones((2, 3), bool))
    with pytest.raises(VolsegError, match="seg \\('x.h5:seg'\\) must hold integer"):
        contingency(Volume(a.astype(np.float64), path="x.h5:seg"), a)
    z = zarr.zeros(shape=a.shape, dtype=np.uint32)
    with pytest.raises(VolsegError, match="slab_z must be a positive"):
        contingency(z, a, slab_z=0)
    with pytest.raises(VolsegError, match="equal lengths"):
        Contingency.from_pairs([1, 2], [1], [1, 1])
