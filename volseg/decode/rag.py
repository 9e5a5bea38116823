"""Region adjacency graphs of labelled volumes and waterz-style hierarchical merging on them.

Blockwise agglomeration (:mod:`volseg.infer.affinity_stitch`) decodes every block on its
own and then decides globally which block segments belong together. That needs two pieces
that waterz does not offer for a graph given as edge lists:

- :func:`region_edges`: per pair of different non-zero ids, the sum, count, maximum and
  (optionally) a 256-bin histogram of the values on the voxel pairs ``(v, v + offset)``
  joining them; :func:`combine` adds up the edges of several blocks.
- :func:`merge_graph`: waterz's ``IterativeRegionMerging`` on such a graph: repeatedly merge
  the pair of lowest score ``1 - mean`` (or ``1 - quantile`` of the histogram) while the
  score stays below the threshold, with the same lazy re-scoring, so that, given the same
  fragments, it ends with waterz's partition.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from volseg.errors import VolsegError
from volseg.offsets import NEAREST

#: Histogram bins of the quantile merge function (waterz's ``HistogramQuantileAffinity``).
BINS = 256


class Edges(NamedTuple):
    """Statistics of the voxel pairs between id pairs ``u < v`` (one row per pair)."""

    u: np.ndarray  # int64
    v: np.ndarray  # int64
    sum: np.ndarray  # float64
    count: np.ndarray  # int64
    max: np.ndarray  # float64
    hist: np.ndarray | None  # (n, BINS) int64, or None

    @classmethod
    def empty(cls, *, bins: bool = False) -> Edges:
        z = np.zeros(0, dtype=np.int64)
        hist = np.zeros((0, BINS), dtype=np.int64) if bins else None
        return cls(z, z, z.astype(np.float64), z, z.astype(np.float64), hist)


def discretize(values: np.ndarray) -> np.ndarray:
    """waterz's bin of a value in [0, 1] (``discretize.hpp``): ``int(value * 256)``, clamped."""
    values = np.asarray(values, dtype=np.float32)
    bins = np.where(values > 0, np.minimum(values * np.float32(BINS), BINS - 1), 0)
    return np.where(values >= 1, BINS - 1, bins).astype(np.int64)


def _reduce(u: np.ndarray, v: np.ndarray, values: np.ndarray, counts: np.ndarray,
            maxima: np.ndarray, hist: np.ndarray | None) -> Edges:  # fmt: skip
    """Rows with the same ``(u, v)`` summed (maxima: the largest)."""
    if u.size == 0:
        return Edges.empty(bins=hist is not None)
    keys = (u.astype(np.uint64) << np.uint64(32)) | v.astype(np.uint64)
    unique, inverse = np.unique(keys, return_inverse=True)
    n = unique.size
    total = np.bincount(inverse, weights=values, minlength=n)
    count = np.bincount(inverse, weights=counts, minlength=n).astype(np.int64)
    top = np.full(n, -np.inf)
    np.maximum.at(top, inverse, maxima)
    out_hist = None
    if hist is not None:
        out_hist = np.zeros((n, BINS), dtype=np.int64)
        np.add.at(out_hist, inverse, hist)
    return Edges((unique >> np.uint64(32)).astype(np.int64),
                 (unique & np.uint64(2**32 - 1)).astype(np.int64),
                 total, count, top, out_hist)  # fmt: skip


def region_edges(
    labels: np.ndarray,
    values: np.ndarray,
    *,
    offsets: Sequence[Sequence[int]] = NEAREST,
    inner: tuple[slice, slice, slice] | None = None,
    bins: bool = False,
) -> Edges:
    """The region adjacency graph of ``labels`` with statistics of ``values``.

    Args:
        labels: (z, y, x) ids below 2**32; 0 is background and never part of an edge.
        values: (len(offsets), z, y, x); ``values[k, v]`` belongs to the pair
            ``(v, v + offsets[k])``, as an affinity does (nearest affinities by default).
        offsets: one (dz, dy, dx) per channel of ``values``.
        inner: the voxels ``v`` whose pairs are counted (default all); pairs whose other voxel
            leaves ``labels`` are skipped. Blocks pass their write region, so that every
            pair of the volume is counted by exactly one block.
        bins: also count a 256-bin histogram of the values (for the quantile merge).

    Returns:
        One row per pair of different non-zero ids ``u < v`` that some counted pair joins.
    """
    labels = np.asarray(labels)
    if values.shape != (len(offsets), *labels.shape):
        raise VolsegError(f"values {values.shape} do not match {len(offsets)} offsets and "
                          f"labels {labels.shape}.")  # fmt: skip
    if labels.size and int(labels.max()) >= 2**32:
        raise VolsegError("region graph ids must be below 2**32.")
    box = inner or tuple(slice(0, s) for s in labels.shape)
    us, vs, vals = [], [], []
    for k, off in enumerate(offsets):
        here, there = [], []
        for (lo, hi), d, n in zip(((s.start, s.stop) for s in box), off, labels.shape,
                                  strict=True):  # fmt: skip
            start, stop = max(lo, -d, 0), min(hi, n - d, n)
            if start >= stop:
                break
            here.append(slice(start, stop))
            there.append(slice(start + d, stop + d))
        else:
            a, b = labels[tuple(here)].ravel(), labels[tuple(there)].ravel()
            keep = (a != b) & (a > 0) & (b > 0)
            a, b = a[keep].astype(np.int64), b[keep].astype(np.int64)
            us.append(np.minimum(a, b))
            vs.append(np.maximum(a, b))
            vals.append(values[k][tuple(here)].ravel()[keep].astype(np.float64))
    if not us:
        return Edges.empty(bins=bins)
    u, v, val = np.concatenate(us), np.concatenate(vs), np.concatenate(vals)
    hist = None
    if bins:
        hist = np.zeros((val.size, BINS), dtype=np.int64)
        hist[np.arange(val.size), discretize(val)] = 1
    return _reduce(u, v, val, np.ones(val.size, dtype=np.int64), val, hist)


def combine(parts: Sequence[Edges]) -> Edges:
    """The edges of several regions (e.g. blocks) added up per id pair."""
    parts = [p for p in parts if p.u.size]
    if not parts:
        return Edges.empty()
    with_hist = all(p.hist is not None for p in parts)
    return _reduce(
        np.concatenate([p.u for p in parts]), np.concatenate([p.v for p in parts]),
        np.concatenate([p.sum for p in parts]), np.concatenate([p.count for p in parts]),
        np.concatenate([p.max for p in parts]),
        np.concatenate([p.hist for p in parts]) if with_hist else None,  # type: ignore[misc]
    )  # fmt: skip


def waterz_histograms(edges: Edges) -> Edges:
    """Histograms as waterz starts them (``InitWithMax``): one count in the bin of each
    pair's largest value."""
    hist = np.zeros((edges.u.size, BINS), dtype=np.int64)
    hist[np.arange(edges.u.size), discretize(edges.max)] = 1
    return edges._replace(hist=hist)


def _sparse_histograms(edges: Edges) -> list[dict[int, int]]:
    """Each edge's histogram as ``{bin: count}`` (a dense (n, 256) table of every edge of a
    large volume does not fit in memory); without ``hist``, waterz's start: one count in
    the bin of the pair's largest value."""
    if edges.hist is None:
        return [{int(b): 1} for b in discretize(edges.max)]
    return [{int(b): int(h[b]) for b in np.flatnonzero(h)} for h in edges.hist]


def _score(total: float, count: int, hist: dict[int, int] | None, quantile: int | None) -> float:
    """``1 - mean`` or ``1 - quantile`` (waterz's histogram quantile), in float32 as waterz."""
    if quantile is None or hist is None:
        return float(np.float32(1) - np.float32(total / count))
    pivot = quantile * sum(hist.values()) // 100 + 1
    seen = 0
    for bin_ in sorted(hist):
        seen += hist[bin_]
        if seen >= pivot:
            break
    return float(np.float32(1) - np.float32((bin_ + 0.5) / BINS))


class _Heap:
    """A min-heap of ``(score, edge)`` that pops ties in the order of libstdc++'s
    ``std::priority_queue`` (``push_heap`` / ``pop_heap``), which waterz uses: with the
    histogram quantile many scores tie, and the order of tied merges changes the result."""

    def __init__(self) -> None:
        self.items: list[tuple[float, int]] = []

    def __len__(self) -> int:
        return len(self.items)

    def top(self) -> tuple[float, int]:
        return self.items[0]

    def push(self, item: tuple[float, int]) -> None:
        self.items.append(item)
        self._up(len(self.items) - 1, 0, item)

    def _up(self, hole: int, top: int, item: tuple[float, int]) -> None:
        heap = self.items
        parent = (hole - 1) // 2
        while hole > top and heap[parent][0] > item[0]:
            heap[hole] = heap[parent]
            hole = parent
            parent = (hole - 1) // 2
        heap[hole] = item

    def pop(self) -> tuple[float, int]:
        heap = self.items
        first, item = heap[0], heap.pop()
        n = len(heap)
        if n == 0:
            return first
        hole = child = 0
        while child < (n - 1) // 2:
            child = 2 * (child + 1)
            if heap[child][0] > heap[child - 1][0]:
                child -= 1
            heap[hole] = heap[child]
            hole = child
        if n % 2 == 0 and child == (n - 2) // 2:
            child = 2 * (child + 1)
            heap[hole] = heap[child - 1]
            hole = child - 1
        self._up(hole, 0, item)
        return first


def merge_graph(
    n_nodes: int,
    edges: Edges,
    *,
    threshold: float,
    merge_function: str = "mean",
    quantile: int = 50,
) -> np.ndarray:
    """Hierarchical merging of a region graph, as waterz's ``mergeUntil`` does it.

    Written here because waterz only agglomerates a voxel volume (affinities plus
    fragments), not a graph given as edge lists. The order follows waterz's
    ``IterativeRegionMerging``: a heap of edges by score; a merged-into region keeps the
    smaller id; when both merged regions border a third, the two edges' statistics are
    added into the one of lower stored score and the other is dropped; an edge whose
    statistics changed is re-scored only when it reaches the top of the heap (so, as in
    waterz, an edge whose score fell below the threshold while its old entry stayed above
    it is not merged).

    Args:
        n_nodes: ids are ``0..n_nodes - 1``; id 0 is background and never merged.
        edges: from :func:`region_edges` / :func:`combine`; for the quantile, ``hist`` or,
            without it, waterz's start (one count at each pair's largest value).
        threshold: merge while the lowest score is below this.
        merge_function: ``mean`` or ``quantile``.
        quantile: percent, for ``merge_function="quantile"``.

    Returns:
        The root (final region id, the smallest member id) of every id ``0..n_nodes - 1``.
    """
    if merge_function not in ("mean", "quantile"):
        raise VolsegError(f"merge_function must be mean or quantile, got {merge_function!r}.")
    q = quantile if merge_function == "quantile" else None
    threshold = float(np.float32(threshold))  # waterz compares in float32

    total = [float(s) for s in edges.sum]
    count = [int(c) for c in edges.count]
    hist = _sparse_histograms(edges) if q is not None else [None] * len(total)
    ends = [[int(a), int(b)] for a, b in zip(edges.u, edges.v, strict=True)]
    adjacent: list[dict[int, int]] = [{} for _ in range(n_nodes)]
    for e, (a, b) in enumerate(ends):
        adjacent[a][b] = e
        adjacent[b][a] = e
    scores = [_score(total[e], count[e], hist[e], q) for e in range(len(ends))]
    heap = _Heap()
    for e, s in enumerate(scores):
        heap.push((s, e))
    stale = [False] * len(ends)
    deleted = [False] * len(ends)
    parent = list(range(n_nodes))
    while heap and heap.top()[0] < threshold:
        _, e = heap.pop()
        if deleted[e]:
            continue
        if stale[e]:
            stale[e] = False
            scores[e] = _score(total[e], count[e], hist[e], q)
            heap.push((scores[e], e))
            continue
        a, b = ends[e]  # a < b: b joins a
        parent[b] = a
        del adjacent[a][b]
        for other, f in adjacent[b].items():
            if other == a:
                continue
            del adjacent[other][b]
            g = adjacent[a].get(other)
            if g is None:
                ends[f] = sorted((a, other))
                adjacent[a][other] = f
                adjacent[other][a] = f
                continue
            keep, drop = (g, f) if scores[f] > scores[g] else (f, g)
            total[keep] += total[drop]
            count[keep] += count[drop]
            if q is not None:
                for bin_, n in hist[drop].items():  # type: ignore[union-attr]
                    hist[keep][bin_] = hist[keep].get(bin_, 0) + n  # type: ignore[index]
            deleted[drop] = True
            stale[keep] = True
            ends[keep] = sorted((a, other))
            adjacent[a][other] = keep
            adjacent[other][a] = keep
        adjacent[b] = {}
    roots = np.asarray(parent, dtype=np.int64)
    while True:  # path halving until every id points at its root
        up = roots[roots]
        if np.array_equal(up, roots):
            return roots
        roots = up
