"""Foreground index, window sampling and validation tiles."""

import math

import numpy as np
import pytest

from volseg.data.sampling import PatchSampler, build_index, start_range, tile_starts
from volseg.data.split import Region


class Recorder:
    """An array that records every box read from it."""

    def __init__(self, array):
        self.array, self.reads = array, []
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, box):
        self.reads.append(box)
        return self.array[box]


def volume(seed=0, shape=(20, 40, 48)):
    rng = np.random.default_rng(seed)
    labels = np.where(rng.random(shape) < 0.03, rng.integers(1, 9, shape), 0).astype(np.uint16)
    labels[:, :10] = 0  # a band without foreground
    mask = rng.random(shape) < 0.8
    return labels, mask


def test_index_counts_match_numpy_and_reads_stay_small():
    labels, mask = volume()
    region = Region(0, (2, 18), (5, 40), (0, 45))
    lab, msk = Recorder(labels), Recorder(mask)
    cell = (4, 8, 8)
    ix = build_index(lab, msk, region, cell=cell, per_cell=5, block_bytes=4 * 8 * 8 * 2 * 3)
    box = region.slices
    fg = (labels[box] > 0) & mask[box]
    assert ix.valid == int(mask[box].sum()) and ix.foreground == int(fg.sum())
    assert np.isclose(ix.weights.sum(), ix.foreground)
    # every point is a valid foreground voxel inside the region, none twice
    z, y, x = ix.points.T
    assert np.all((labels[z, y, x] > 0) & mask[z, y, x])
    assert all(
        np.all((p >= a) & (p < b))
        for p, a, b in zip(ix.points.T, region.start, region.stop, strict=True)
    )
    assert len({tuple(p) for p in ix.points}) == len(ix.points)
    # chunk-wise: many small reads, each inside the region, none of the whole region
    assert len(lab.reads) > 10 and lab.reads == msk.reads
    for read in lab.reads:
        size = math.prod(s.stop - s.start for s in read)
        assert size <= 4 * 8 * 8 * 3
        assert all(
            a <= s.start < s.stop <= b
            for s, a, b in zip(read, region.start, region.stop, strict=True)
        )


def test_index_per_cell_cap_and_no_mask():
    labels, _ = volume(1)
    region = Region(0, (0, 20), (0, 40), (0, 48))
    ix = build_index(labels, None, region, cell=(20, 40, 48), per_cell=7)
    assert ix.valid == labels.size and ix.foreground == int((labels > 0).sum())
    assert len(ix.points) == 7 and np.allclose(ix.weights, ix.foreground / 7)
    empty = build_index(
        np.zeros((4, 4, 4), np.uint8), None, Region(0, (0, 4), (0, 4), (0, 4)), cell=(2, 2, 2)
    )
    assert empty.foreground == 0 and empty.points.shape == (0, 3)


def test_uniform_windows_cover_the_padded_range():
    regions = [Region(0, (0, 10), (0, 12), (0, 12)), Region(1, (5, 9), (0, 12), (0, 12))]
    geometry = [((4, 8, 8), (1, 2, 0)), ((4, 8, 8), (0, 0, 0))]
    sampler = PatchSampler(regions, geometry)
    rng = np.random.default_rng(0)
    starts = {0: set(), 1: set()}
    for _ in range(3000):
        w = sampler.uniform(rng)
        lo, hi = start_range(regions[w.region], *geometry[w.region])
        assert all(a <= s <= b for s, a, b in zip(w.start, lo, hi, strict=True))
        starts[w.region].add(w.start)
    # every start is reachable: 9 x 9 x 5 and 1 x 5 x 5, drawn in proportion
    assert len(starts[0]) == 9 * 9 * 5 and len(starts[1]) == 1 * 5 * 5


def test_foreground_windows_hold_a_foreground_voxel_in_proportion():
    labels = np.zeros((2, 30, 30), np.uint8)
    labels[0, 2, 3] = 1  # region 0: one voxel
    labels[1, 20:23, 20:23] = 2  # region 1: nine voxels
    regions = [Region(0, (0, 1), (0, 30), (0, 30)), Region(0, (1, 2), (0, 30), (0, 30))]
    geometry = [((1, 8, 8), (0, 0, 0))] * 2
    indexes = [build_index(labels, None, r, cell=(1, 4, 4), seed=3) for r in regions]
    sampler = PatchSampler(regions, geometry, indexes)
    assert sampler.has_foreground
    rng = np.random.default_rng(1)
    hits = [0, 0]
    for _ in range(2000):
        w = sampler.foreground(rng)
        box = tuple(slice(s, s + d) for s, d in zip(w.start, geometry[0][0], strict=True))
        assert labels[box].any()
        hits[w.region] += 1
    assert 0.06 < hits[0] / 2000 < 0.14  # 1 of 10 foreground voxels


def test_without_foreground_index():
    sampler = PatchSampler([Region(0, (0, 4), (0, 8), (0, 8))], [((2, 4, 4), (0, 0, 0))])
    assert not sampler.has_foreground
    with pytest.raises(RuntimeError):
        sampler.foreground(np.random.default_rng())


@pytest.mark.parametrize("extent", [(5, 17, 32), (3, 8, 8), (2, 30, 9)])
def test_tiles_cover_the_region(extent):
    region = Region(0, (4, 4 + extent[0]), (1, 1 + extent[1]), (0, extent[2]))
    patch = (3, 8, 8)
    covered = np.zeros((40, 60, 60), int)
    for s in tile_starts(region, patch):
        box = tuple(slice(a + 10, a + 10 + d) for a, d in zip(s, patch, strict=True))
        covered[box] += 1
    inside = tuple(slice(a + 10, b + 10) for a, b in zip(region.start, region.stop, strict=True))
    assert covered[inside].min() >= 1
    for axis in range(3):  # tiles stay in the region unless it is smaller than the patch
        if extent[axis] >= patch[axis]:
            lo = [s[axis] for s in tile_starts(region, patch)]
            assert min(lo) == region.start[axis] and max(lo) + patch[axis] == region.stop[axis]
