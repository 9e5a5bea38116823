"""Stitching: overlap counts, merge pairs, union-find over provisional ids, global relabel."""

import math
from collections import Counter

import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.infer.stitch import (
    final_ids,
    match_segments,
    merge_components,
    output_dtype,
    overlap_counts,
)


def reference_pairs(a, b):
    """Obviously-correct merge pairs: every pair of non-zero ids on a common voxel."""
    a, b = [int(v) for v in np.ravel(a)], [int(v) for v in np.ravel(b)]
    return sorted({(x, y) for x, y in zip(a, b, strict=True) if x and y})


def reference_components(pairs, n_ids):
    """A slow textbook union-find; components numbered by smallest member."""
    parent = list(range(n_ids + 1))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for x, y in pairs:
        rx, ry = find(int(x)), find(int(y))
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    roots = [find(i) for i in range(n_ids + 1)]
    order = {r: k for k, r in enumerate(sorted(set(roots)))}
    return np.array([order[r] for r in roots])


def test_overlap_counts_match_counting_by_hand():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, size=(4, 6, 7)).astype(np.uint32)
    b = rng.integers(0, 4, size=(4, 6, 7)).astype(np.uint64)
    a_ids, b_ids, n = overlap_counts(a, b)
    got = {(int(x), int(y)): int(k) for x, y, k in zip(a_ids, b_ids, n, strict=True)}
    expected = Counter(
        (int(x), int(y)) for x, y in zip(a.ravel(), b.ravel(), strict=True) if x and y
    )
    assert got == dict(expected)


def test_every_touching_pair_is_merged():
    a = np.array([1, 1, 1, 2, 0, 3])
    b = np.array([5, 5, 6, 6, 6, 0])
    assert match_segments(a, b).tolist() == [[1, 5], [1, 6], [2, 6]]


def test_match_segments_agrees_with_the_reference_on_random_labels():
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.integers(0, 6, size=300).astype(np.uint32)
        b = np.where(rng.random(300) < 0.7, a + 10, rng.integers(0, 14, size=300)).astype(np.uint32)
        got = [tuple(p) for p in match_segments(a, b).tolist()]
        assert got == reference_pairs(a, b)


def test_match_segments_handles_ids_up_to_the_uint32_limit():
    top = 2**32 - 1
    a = np.array([top, top, 5], dtype=np.uint64)
    b = np.array([top - 1, top - 1, 5], dtype=np.uint64)
    assert match_segments(a, b).tolist() == [[5, 5], [top, top - 1]]
    with pytest.raises(VolsegError, match="below 2\\*\\*32"):
        match_segments(np.array([2**32], dtype=np.uint64), np.array([1], dtype=np.uint64))


def test_match_segments_refuses_bad_input():
    with pytest.raises(VolsegError, match="overlap labels differ in shape"):
        match_segments(np.ones(3), np.ones(4))


def test_merge_components_matches_a_reference_union_find():
    rng = np.random.default_rng(2)
    for n_ids in (1, 5, 40, 300):
        pairs = rng.integers(1, n_ids + 1, size=(n_ids // 2 + 1, 2))
        got = merge_components(pairs, n_ids)
        assert got.tolist() == reference_components(pairs, n_ids).tolist()
        assert got[0] == 0


def test_merge_components_without_pairs_keeps_every_id():
    assert merge_components(np.zeros((0, 2)), 4).tolist() == [0, 1, 2, 3, 4]


def test_merge_components_refuses_ids_out_of_range():
    with pytest.raises(VolsegError, match="merge pairs must name ids 1..3"):
        merge_components(np.array([[0, 2]]), 3)
    with pytest.raises(VolsegError, match="merge pairs must name ids 1..3"):
        merge_components(np.array([[1, 4]]), 3)


def test_final_ids_relabel_sequentially_and_remove_small_instances():
    # provisional ids 1..6 in components {1, 4}, {2}, {3, 5}, {6}
    components = np.array([0, 1, 2, 3, 1, 3, 4])
    sizes = np.array([0, 5, 2, 0, 1, 0, 9])  # id 3 and 5 were only ever seen in halos
    lut, n = final_ids(components, sizes, min_size=3)
    assert n == 2
    assert lut.dtype == np.uint32
    assert lut.tolist() == [0, 1, 0, 0, 1, 0, 2]
    lut, n = final_ids(components, sizes)
    assert n == 3 and lut.tolist() == [0, 1, 2, 0, 1, 0, 3]


def test_final_ids_refuses_mismatched_inputs():
    with pytest.raises(VolsegError, match="components"):
        final_ids(np.array([0, 1]), np.array([0, 1, 2]))


def test_output_dtype_switches_to_uint64_when_ids_could_overflow():
    assert output_dtype((250, 250, 250)) == np.uint32
    big = (1024, 2048, 2048)  # 2**32 voxels: ids up to 2**32 do not fit uint32
    assert math.prod(big) == 2**32
    assert output_dtype(big) == np.uint64
