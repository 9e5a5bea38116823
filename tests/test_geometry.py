"""Boxes and block grids, checked against numpy slicing of an index array."""

import itertools

import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.geometry import BlockGrid, Box, as_shape, default_halo

SHAPE = (10, 23, 17)
INDEX = np.arange(np.prod(SHAPE)).reshape(SHAPE)


def voxels(box):
    """The flat indices of a box's voxels inside SHAPE (numpy cuts slices to the array)."""
    return set(INDEX[box.slices].ravel().tolist()) if box is not None else set()


def boxes():
    rng = np.random.default_rng(0)
    for _ in range(60):
        start = rng.integers(0, SHAPE)
        stop = start + rng.integers(0, 9, size=3)
        yield Box.from_bounds(start.tolist(), np.minimum(stop, SHAPE).tolist())


@pytest.fixture(name="grid")
def grid_fixture():
    return BlockGrid.make(SHAPE, (4, 8, 8), (2, 3, 1), min_halo=1)


def test_intersect_is_the_common_voxels():
    for a, b in itertools.pairwise(boxes()):
        common = a.intersect(b)
        assert voxels(common) == voxels(a) & voxels(b)
        assert common is None or not common.empty


def test_grow_within_the_volume_is_numpy_slicing_of_the_grown_bounds():
    volume = Box.whole(SHAPE)
    for box, width in zip(boxes(), itertools.cycle([0, 1, (2, 0, 5)]), strict=False):
        w = as_shape(width, name="w", low=0)
        grown = box.grow(width, within=volume)
        region = tuple(
            slice(max(0, o - d), e + d) for o, e, d in zip(box.offset, box.end, w, strict=True)
        )
        assert voxels(grown) == set(INDEX[region].ravel().tolist())
        assert volume.contains(grown) and grown.contains(box)


def test_relative_to_indexes_the_origin_array():
    origin = Box((2, 5, 3), (6, 10, 9))
    crop = INDEX[origin.slices]
    for box in boxes():
        inner = box.intersect(origin)
        if inner is not None:
            assert (crop[inner.relative_to(origin).slices] == INDEX[inner.slices]).all()


def test_slices_round_trip_and_nm():
    box = Box((1, 2, 3), (4, 5, 6))
    assert Box.from_slices(box.slices) == box
    assert box.end == (5, 7, 9) and box.size == 120
    assert box.to_nm((30.0, 8.0, 8.0)) == ((30.0, 16.0, 24.0), (120.0, 40.0, 48.0))
    assert Box.from_nm((30.0, 16.0, 24.0), (120.0, 40.0, 48.0), (30, 8, 8)) == box
    assert Box.from_nm((31.0, 16.0, 24.0), (100.0, 40.0, 47.0), (30, 8, 8)) == box
    with pytest.raises(ValueError, match="three bounded slices"):
        Box.from_slices((slice(None), slice(0, 1), slice(0, 1)))


def test_cut_faces_are_the_faces_inside_the_volume():
    read = Box.from_slices((slice(0, 8), slice(2, 30), slice(4, 30)))
    assert read.cut_faces((8, 40, 30)) == ((False, False), (True, True), (True, False))


def test_write_boxes_tile_the_volume_once(grid):
    covered = np.zeros(SHAPE, dtype=int)
    for block in grid:
        covered[block.write.slices] += 1
    assert (covered == 1).all()
    assert grid.grid_shape == (3, 3, 3)
    assert len(grid) == len(list(grid)) == 27
    assert [b.id for b in grid] == list(range(27))
    assert list(grid.writes()) == [b.write for b in grid]


def test_read_and_seam_boxes_are_the_write_box_grown_and_cut(grid):
    for block in grid:
        write, read, seam = block.write.slices, block.read.slices, block.seam.slices
        for axis, (w, r, s, h, n) in enumerate(
            zip(write, read, seam, grid.halo, SHAPE, strict=True)
        ):
            assert r.start == max(0, w.start - h) and r.stop == min(n, w.stop + h), axis
            assert s.start == max(0, w.start - 1) and s.stop == min(n, w.stop + 1), axis
        inner = np.zeros(block.read.shape, dtype=bool)
        inner[block.inner.slices] = True
        assert inner.sum() == block.write.size
    assert grid.read_shape == (8, 14, 10)


def test_block_by_index_and_by_id_agree(grid):
    for block in grid:
        assert grid.block(block.index) == grid.block(block.id) == block


def test_forward_neighbours_list_every_adjacent_pair_once(grid):
    found = [(b.id, o.id) for b in grid for o in grid.forward_neighbours(b)]
    assert len(found) == len(set(found))
    expected = {
        (a.id, b.id)
        for a, b in itertools.combinations(grid, 2)
        if max(abs(i - j) for i, j in zip(a.index, b.index, strict=True)) == 1
    }
    assert set(found) == expected


def test_face_overlap_is_the_two_planes_of_the_seam(grid):
    a, b = grid.block((1, 1, 1)), grid.block((1, 2, 1))  # neighbours along y
    z, _, x = a.write.slices
    assert [o.slices for o in grid.overlap(a, b)] == [
        (z, slice(15, 16), x),
        (z, slice(16, 17), x),
    ]
    wide = grid.overlap(a, b, width=10)  # cut to the halo (2, 3, 1)
    assert [o.slices for o in wide] == [(z, slice(13, 16), x), (z, slice(16, 19), x)]


def test_corner_overlap_is_one_voxel_on_each_side(grid):
    a, b = grid.block((0, 0, 0)), grid.block((1, 1, 1))
    assert [o.slices for o in grid.overlap(a, b)] == [
        (slice(3, 4), slice(7, 8), slice(7, 8)),
        (slice(4, 5), slice(8, 9), slice(8, 9)),
    ]


def test_overlap_lies_in_both_seams_and_reads(grid):
    for a in grid:
        for b in grid.forward_neighbours(a):
            found = grid.overlap(a, b)
            assert found
            for box in found:
                for region in (a.seam, b.seam, a.read, b.read):
                    assert region.contains(box)


def test_far_blocks_do_not_overlap(grid):
    assert grid.overlap(grid.block(0), grid.block((2, 2, 2))) == []


def test_default_halo_follows_the_voxel_size():
    assert default_halo((30.0, 8.0, 8.0)) == (5, 16, 16)
    assert default_halo((40.0, 4.0, 4.0)) == (4, 16, 16)
    assert default_halo((10.0, 10.0, 10.0)) == (16, 16, 16)
    assert default_halo((5.0, 5.0, 5.0), voxels=8) == (8, 8, 8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (((10, 10, 10), (4, 4, 4), 0), "halo must be three integers >= 1"),
        (((10, 10, 10), (4, 0, 4), 2), "block_shape must be three integers >= 1"),
        (((10, 10, 10), (4, 4), 2), "block_shape must be three integers >= 1"),
        (((10, 10), (4, 4, 4), 2), "volume shape must be three integers >= 1"),
        (((10, 10, 10), (4, 4, 4.5), 2), "block_shape must be three integers >= 1"),
    ],
)
def test_bad_geometry_is_refused(args, message):
    with pytest.raises(VolsegError, match=message):
        BlockGrid.make(*args, min_halo=1)


def test_blocks_outside_the_grid_are_refused(grid):
    with pytest.raises(VolsegError, match="block id 27 is outside a grid of 27 blocks"):
        grid.block(27)
    with pytest.raises(VolsegError, match=r"block \(0, 3, 0\) is outside the grid"):
        grid.block((0, 3, 0))


def test_as_shape_accepts_an_int():
    assert as_shape(3, name="halo", low=0) == (3, 3, 3)


def test_a_grid_without_halo_reads_its_write_boxes():
    grid = BlockGrid.make(SHAPE, 8)
    assert all(b.read == b.write for b in grid)


def test_neighbours_are_the_26_around_a_block(grid):
    centre = grid.block((1, 1, 1))
    around = grid.neighbours(centre)
    assert centre not in around
    steps = [max(abs(a - b) for a, b in zip(o.index, centre.index, strict=True)) for o in around]
    assert steps == [1] * 26
    assert len(around) == 26
    assert len(grid.neighbours(grid.block(0))) == 7
