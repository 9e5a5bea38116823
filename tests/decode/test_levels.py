"""Flood levels: the minimax cost from the sources, against a textbook Dijkstra."""

import heapq
import itertools

import numpy as np
import pytest

from volseg.decode import watershed
from volseg.decode._levels import flood_levels


def reference_levels(height, sources, mask, connectivity):
    """Dijkstra with cost = highest height on the path (pure Python)."""
    steps = [
        d for d in itertools.product((-1, 0, 1), repeat=3)
        if any(d) and sum(map(abs, d)) <= connectivity
    ]  # fmt: skip
    out = np.full(height.shape, np.inf)
    heap = []
    for idx in zip(*np.nonzero(sources & mask), strict=True):
        out[idx] = float(height[idx])
        heap.append((out[idx], idx))
    heapq.heapify(heap)
    while heap:
        cost, idx = heapq.heappop(heap)
        if cost > out[idx]:
            continue
        for d in steps:
            j = tuple(i + s for i, s in zip(idx, d, strict=True))
            if all(0 <= v < n for v, n in zip(j, height.shape, strict=True)) and mask[j]:
                c = max(cost, float(height[j]))
                if c < out[j]:
                    out[j] = c
                    heapq.heappush(heap, (c, j))
    return out


@pytest.mark.parametrize("connectivity", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_levels_equal_the_minimax_reference(dtype, connectivity):
    rng = np.random.default_rng(connectivity)
    height = (rng.random((6, 7, 8)) * 200).astype(dtype)
    sources = rng.random(height.shape) < 0.03
    mask = rng.random(height.shape) < 0.8
    got = flood_levels(height, sources, mask, connectivity=connectivity)
    assert np.array_equal(got, reference_levels(height, sources, mask, connectivity))
    assert np.isinf(got[~mask]).all()


def test_no_mask_floods_everything_and_no_source_reaches_nothing():
    height = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    sources = np.zeros(height.shape, bool)
    assert np.isinf(flood_levels(height, sources, None, connectivity=1)).all()
    sources[1, 2, 3] = True  # the highest voxel: everything is reached at its height
    assert (flood_levels(height, sources, None, connectivity=1) == 23).all()


def test_levels_are_where_the_watershed_labels_reach():
    rng = np.random.default_rng(5)
    height = rng.integers(0, 50, (8, 9, 10)).astype(np.uint16)
    markers = np.zeros(height.shape, np.uint32)
    markers[0, 0, 0], markers[-1, -1, -1] = 1, 2
    mask = rng.random(height.shape) < 0.7
    mask[0, 0, 0] = mask[-1, -1, -1] = True
    labels = watershed(height, markers, mask=mask, connectivity=1)
    levels = flood_levels(height, markers > 0, mask, connectivity=1)
    assert np.array_equal(labels > 0, np.isfinite(levels))
