"""The window grid and blending weights: exactly MONAI's; blocks of whole windows."""

import itertools

import numpy as np
import pytest
from monai.data.utils import compute_importance_map, dense_patch_slices
from monai.inferers.utils import _get_scan_interval

from volseg.errors import VolsegError
from volseg.infer.grid import importance_map, make_grid, window_blocks


@pytest.mark.parametrize(
    ("shape", "window", "overlap"),
    [
        ((20, 50, 45), (8, 16, 16), 0.25),
        ((16, 33, 17), (16, 16, 16), 0.5),
        ((5, 12, 40), (8, 16, 16), 0.0),
        ((7, 100, 9), (3, 10, 9), 0.9),
    ],
)
def test_grid_places_windows_like_monai(shape, window, overlap):
    grid = make_grid(shape, window, overlap)
    padded = tuple(max(n, w) for n, w in zip(shape, window, strict=True))
    assert grid.padded_shape == padded
    interval = _get_scan_interval(padded, window, 3, (overlap,) * 3)
    slices = dense_patch_slices(padded, window, interval)
    expected = {tuple((s.start, s.stop) for s in sl) for sl in slices}
    starts = grid.windows(grid.all_ranges())
    ours = {tuple((s, s + w) for s, w in zip(st, window, strict=True)) for st in starts}
    assert ours == expected
    assert len(grid.windows(grid.all_ranges())) == grid.size == len(expected)


@pytest.mark.parametrize("window", [(8, 16, 16), (5, 7, 12), (1, 32, 31)])
@pytest.mark.parametrize("sigma", [0.125, 0.3])
def test_importance_map_equals_monai(window, sigma):
    ours = importance_map(window, blending="gaussian", sigma_scale=sigma)
    ref = compute_importance_map(window, mode="gaussian", sigma_scale=sigma).numpy()
    np.testing.assert_array_equal(ours, ref)
    flat = importance_map(window, blending="constant", sigma_scale=sigma)
    np.testing.assert_array_equal(flat, np.ones(window, np.float32))


def test_window_blocks_partition_the_padded_volume():
    grid = make_grid((30, 7, 61), (8, 16, 16), 0.25)
    blocks = window_blocks(grid, (10, 16, 20))
    cover = np.zeros(grid.padded_shape, np.int32)
    for block in blocks:
        cover[blocks.owned(block)] += 1
        for target, piece in blocks.split(grid.cover(blocks.ranges(block))):
            # windows only reach forward: every piece belongs to this block or a later one
            assert all(t >= b for t, b in zip(target, block, strict=True))
            assert blocks.block_of(tuple(s.start for s in piece)) == target
    assert (cover == 1).all()
    assert window_blocks(grid, None).shape == (1, 1, 1)


def test_touching_windows_are_exactly_those_overlapping():
    grid = make_grid((30, 40, 50), (8, 16, 16), 0.25)
    region = (slice(5, 17), slice(20, 21), slice(0, 50))
    ranges = grid.touching(region)
    for idx in itertools.product(*grid.all_ranges()):
        start = [grid.starts[a][i] for a, i in enumerate(idx)]
        overlaps = all(s < r.stop and s + w > r.start
                       for s, w, r in zip(start, grid.window, region, strict=True))  # fmt: skip
        assert overlaps == all(i in r for i, r in zip(idx, ranges, strict=True))


def test_bad_grids_are_refused():
    with pytest.raises(VolsegError, match="overlap"):
        make_grid((10, 10, 10), (4, 4, 4), 1.0)
    with pytest.raises(VolsegError, match="positive sizes"):
        make_grid((10, 0, 10), (4, 4, 4), 0.5)
    with pytest.raises(VolsegError, match="blending"):
        importance_map((4, 4, 4), blending="triangle", sigma_scale=0.1)
    with pytest.raises(VolsegError, match="sigma_scale"):
        importance_map((4, 4, 4), blending="gaussian", sigma_scale=0)
