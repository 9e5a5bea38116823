"""Block geometry: write regions tile the volume, read regions add the halo, seams and overlaps."""

import itertools

import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.infer.blocks import BlockGrid, as_shape, cut_faces, default_halo, relative

SHAPE = (10, 23, 17)


@pytest.fixture(name="grid")
def grid_fixture():
    return BlockGrid.make(SHAPE, (4, 8, 8), (2, 3, 1))


def test_write_regions_tile_the_volume_once(grid):
    covered = np.zeros(SHAPE, dtype=int)
    for block in grid:
        covered[block.write] += 1
    assert (covered == 1).all()
    assert grid.grid_shape == (3, 3, 3)
    assert len(grid) == len(list(grid)) == 27
    assert [b.id for b in grid] == list(range(27))


def test_read_and_seam_regions_are_the_write_region_grown_and_cut(grid):
    for block in grid:
        for axis, (w, r, s, h, n) in enumerate(
            zip(block.write, block.read, block.seam, grid.halo, SHAPE, strict=True)
        ):
            assert r.start == max(0, w.start - h) and r.stop == min(n, w.stop + h), axis
            assert s.start == max(0, w.start - 1) and s.stop == min(n, w.stop + 1), axis
        assert block.read_shape == tuple(r.stop - r.start for r in block.read)
        inner = np.zeros(block.read_shape, dtype=bool)
        inner[block.inner] = True
        assert inner.sum() == np.prod([w.stop - w.start for w in block.write])
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
    boxes = grid.overlap(a, b)
    assert boxes == [
        (a.write[0], slice(15, 16), a.write[2]),
        (a.write[0], slice(16, 17), a.write[2]),
    ]
    wide = grid.overlap(a, b, width=10)  # cut to the halo (2, 3, 1)
    assert wide == [
        (a.write[0], slice(13, 16), a.write[2]),
        (a.write[0], slice(16, 19), a.write[2]),
    ]


def test_corner_overlap_is_one_voxel_on_each_side(grid):
    a, b = grid.block((0, 0, 0)), grid.block((1, 1, 1))
    assert grid.overlap(a, b) == [
        (slice(3, 4), slice(7, 8), slice(7, 8)),
        (slice(4, 5), slice(8, 9), slice(8, 9)),
    ]


def test_overlap_lies_in_both_seams_and_reads(grid):
    for a in grid:
        for b in grid.forward_neighbours(a):
            boxes = grid.overlap(a, b)
            assert boxes
            for box in boxes:
                for region in (a.seam, b.seam, a.read, b.read):
                    rel = relative(box, region)
                    assert all(s.start >= 0 for s in rel)
                    assert all(s.stop <= r.stop - r.start for s, r in zip(rel, region, strict=True))


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
        BlockGrid.make(*args)


def test_blocks_outside_the_grid_are_refused(grid):
    with pytest.raises(VolsegError, match="block id 27 is outside a grid of 27 blocks"):
        grid.block(27)
    with pytest.raises(VolsegError, match=r"block \(0, 3, 0\) is outside the grid"):
        grid.block((0, 3, 0))


def test_as_shape_accepts_an_int():
    assert as_shape(3, name="halo", low=0) == (3, 3, 3)


def test_cut_faces_are_the_faces_inside_the_volume():
    read = (slice(0, 8), slice(2, 30), slice(4, 30))
    assert cut_faces(read, (8, 40, 30)) == ((False, False), (True, True), (True, False))


def test_neighbours_are_the_26_around_a_block(grid):
    centre = grid.block((1, 1, 1))
    around = grid.neighbours(centre)
    assert centre not in around
    steps = [max(abs(a - b) for a, b in zip(o.index, centre.index, strict=True)) for o in around]
    assert steps == [1] * 26
    assert len(around) == 26
    assert len(grid.neighbours(grid.block(0))) == 7
