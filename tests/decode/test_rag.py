"""Region graphs and waterz-style merging: pair statistics against a brute-force count, and
``merge_graph`` on waterz's own fragments against ``waterz.agglomerate(fragments=...)``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from volseg.decode.affinity import _quiet, scoring_function
from volseg.decode.rag import (
    Edges,
    combine,
    discretize,
    merge_graph,
    region_edges,
    waterz_histograms,
)
from volseg.errors import VolsegError
from volseg.offsets import NEAREST


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


def brute_edges(labels, values, offsets):
    """Every voxel pair visited one by one (a dict of id pair -> list of values)."""
    found: dict[tuple[int, int], list[float]] = {}
    for k, off in enumerate(offsets):
        for v in np.ndindex(labels.shape):
            u = tuple(a + d for a, d in zip(v, off, strict=True))
            if not all(0 <= c < n for c, n in zip(u, labels.shape, strict=True)):
                continue
            a, b = int(labels[v]), int(labels[u])
            if a and b and a != b:
                found.setdefault((min(a, b), max(a, b)), []).append(float(values[(k, *v)]))
    return found


def smooth_affinities(seed: int, shape=(8, 12, 12)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    affs = gaussian_filter(rng.random((3, *shape)), (0, 1, 1, 1)) * 2 - 0.5
    return np.clip(affs, 0, 1).astype(np.float32)


def fragments(affs: np.ndarray) -> np.ndarray:
    import waterz

    return _quiet(lambda: next(iter(waterz.agglomerate(affs, thresholds=[0.0]))).copy())


@pytest.mark.parametrize("offsets", [NEAREST, ((-1, 0, 0), (0, -2, 0), (0, 1, -3))])
def test_region_edges_match_a_brute_force_count(offsets):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (5, 6, 7))
    values = rng.random((len(offsets), 5, 6, 7))
    edges = region_edges(labels, values, offsets=offsets, bins=True)
    found = brute_edges(labels, values, offsets)
    assert sorted(found) == list(zip(edges.u.tolist(), edges.v.tolist(), strict=True))
    for i, key in enumerate(zip(edges.u.tolist(), edges.v.tolist(), strict=True)):
        assert edges.count[i] == len(found[key])
        assert edges.sum[i] == pytest.approx(sum(found[key]))
        assert edges.max[i] == max(found[key])
        assert edges.hist[i].sum() == len(found[key])
        assert edges.hist[i, discretize(np.array(max(found[key])))] >= 1


def test_edges_of_parts_add_up_to_the_whole():
    """Counting pairs by owner voxel in two halves, combined, gives the whole volume's edges."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 6, (6, 8, 8))
    values = rng.random((3, 6, 8, 8))
    whole = region_edges(labels, values, bins=True)
    top = region_edges(labels[:4], values[:, :4], bins=True)
    bottom = region_edges(labels[3:], values[:, 3:], inner=(slice(1, 3), slice(0, 8),
                                                          slice(0, 8)), bins=True)  # fmt: skip
    both = combine([top, bottom])
    for a, b in zip(whole, both, strict=True):
        np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("merge_function", ["mean", "quantile"])
def test_merge_graph_reproduces_waterz_on_the_same_fragments(seed, threshold, merge_function):
    import waterz

    affs = smooth_affinities(seed)
    frags = fragments(affs).astype(np.uint64)
    function = scoring_function(merge_function, 50)
    ref = _quiet(lambda: next(iter(waterz.agglomerate(
        affs, thresholds=[threshold], fragments=frags.copy(), scoring_function=function,
    ))).copy())  # fmt: skip
    edges = region_edges(frags, affs)
    if merge_function == "quantile" and seed % 2:  # dense histograms, or waterz's start
        edges = waterz_histograms(edges)
    roots = merge_graph(int(frags.max()) + 1, edges, threshold=threshold,
                        merge_function=merge_function)  # fmt: skip
    merged = roots[frags.astype(np.int64)]
    assert same_partition(merged, ref)
    assert len(np.unique(merged)) < len(np.unique(frags)) or threshold <= 0.3


def test_merge_graph_stops_at_the_threshold_and_keeps_the_smaller_id():
    e = Edges(np.array([1, 2]), np.array([2, 3]), np.array([0.9, 0.2]), np.array([1, 1]),
              np.array([0.9, 0.2]), None)  # fmt: skip
    assert merge_graph(4, e, threshold=0.5).tolist() == [0, 1, 1, 3]
    assert merge_graph(4, e, threshold=0.9).tolist() == [0, 1, 1, 1]
    assert merge_graph(4, e, threshold=0.5, merge_function="quantile").tolist() == [0, 1, 1, 3]
    with pytest.raises(VolsegError, match="merge_function"):
        merge_graph(4, e, threshold=0.5, merge_function="max")
    with pytest.raises(VolsegError, match="do not match"):
        region_edges(np.zeros((2, 2, 2), int), np.zeros((2, 2, 2, 2)))
