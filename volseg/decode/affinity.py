"""Decoders for affinity maps: connected components, agglomeration, mutex watershed.

Affinity maps are channel-first ``(n_offsets, z, y, x)`` probabilities; channel ``k`` at voxel
``v`` says how likely ``v`` and ``v + offsets[k]`` belong to one object
(:mod:`volseg.offsets`). Every decoder here takes ``channels`` (which map channels are the
affinities; None: all) and ``offsets`` (one per affinity channel; None: the three
nearest-neighbour offsets, which needs exactly three channels).

- :func:`affinity_cc`: components of the graph of nearest-neighbour affinities above a
  threshold.
- :func:`agglomerate`: waterz (watershed fragments, then hierarchical merging by the mean or a
  quantile of the affinities between regions, up to a threshold), the route of PyTorch
  Connectomics' SNEMI tutorial and of daisy/volara pipelines.
- :func:`mutex_watershed`: ``mwatershed`` (short-range channels attract above ``bias``,
  long-range channels repel), the route of torch-em.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from volseg.decode.postprocess import label_dtype, relabel_sequential, remove_small
from volseg.errors import VolsegError
from volseg.offsets import NEAREST, nearest_channels, parse_offsets

MERGE_FUNCTIONS = ("mean", "quantile")
#: Quantiles waterz ships compiled (others need a C++ compiler and boost at run time).
QUANTILES = tuple(range(10, 100, 5))


def affinity_input(
    maps: np.ndarray, channels: Sequence[int] | None, offsets: Any
) -> tuple[np.ndarray, tuple[tuple[int, int, int], ...]]:
    """The affinity channels of ``maps`` and their offsets, checked against each other."""
    maps = np.asarray(maps)
    if maps.ndim != 4:
        raise VolsegError(f"affinity decoders need maps (c, z, y, x), got shape {maps.shape}.")
    if channels is None:
        channels = list(range(maps.shape[0]))
    channels = [int(c) for c in channels]
    bad = [c for c in channels if not 0 <= c < maps.shape[0]]
    if bad or not channels:
        raise VolsegError(
            f"affinity channel(s) {bad or channels} are not in maps of {maps.shape[0]} channels."
        )
    if offsets is None:
        if len(channels) != 3:
            raise VolsegError(
                f"the maps have {len(channels)} affinity channels but no offsets were given; "
                "without offsets the channels must be the 3 nearest-neighbour affinities."
            )
        offsets = NEAREST
    offsets = parse_offsets(offsets)
    if len(offsets) != len(channels):
        raise VolsegError(
            f"the maps have {len(channels)} affinity channel(s) but {len(offsets)} offset(s) "
            "were given; each affinity channel needs its offset."
        )
    affs = np.asarray(maps[channels], dtype=np.float32)
    if not np.isfinite(affs).all():
        raise VolsegError("the affinity maps contain NaN or inf values.")
    return affs, offsets


def _finish(labels: np.ndarray, min_instance_size: int) -> np.ndarray:
    if min_instance_size < 0:
        raise VolsegError(f"min_instance_size must be >= 0, got {min_instance_size}.")
    labels = remove_small(labels, min_size=min_instance_size, in_place=True)
    return relabel_sequential(labels, in_place=True)


def _check_unit(value: float, name: str) -> float:
    if not 0.0 <= float(value) <= 1.0:
        raise VolsegError(f"{name} must lie in [0, 1], got {value}.")
    return float(value)


@numba.njit(cache=True)
def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return root


@numba.njit(cache=True)
def _components(nearest: np.ndarray, threshold: float, out: np.ndarray) -> int:
    """Union-find over the nearest-neighbour edges above ``threshold`` (``nearest`` holds the
    z, y and x channels); writes ids 1..N in scan order into ``out`` and returns N."""
    nz, ny, nx = out.shape
    parent = np.arange(nz * ny * nx)
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                i = (z * ny + y) * nx + x
                if z > 0 and nearest[0, z, y, x] > threshold:
                    a, b = _find(parent, i), _find(parent, i - ny * nx)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                if y > 0 and nearest[1, z, y, x] > threshold:
                    a, b = _find(parent, i), _find(parent, i - nx)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                if x > 0 and nearest[2, z, y, x] > threshold:
                    a, b = _find(parent, i), _find(parent, i - 1)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
    flat = out.reshape(-1)
    n = 0
    for i in range(flat.size):
        root = _find(parent, i)
        if root == i:
            n += 1
            flat[i] = n
        else:
            flat[i] = flat[root]
    return n


def affinity_cc(
    maps: np.ndarray,
    *,
    channels: Sequence[int] | None = None,
    offsets: Any = None,
    threshold: float = 0.5,
    min_instance_size: int = 0,
) -> np.ndarray:
    """Connected components of the voxel graph whose nearest-neighbour affinities exceed
    ``threshold`` (long-range channels are not used). A voxel joined to nothing is a
    one-voxel segment, so ``min_instance_size`` (e.g. 2) clears background and debris.

    cc3d has no affinity-graph input and scipy's csgraph would hold every edge in memory, so
    this is a small union-find over the three nearest channels.
    """
    affs, offs = affinity_input(maps, channels, offsets)
    threshold = _check_unit(threshold, "threshold")
    nearest = np.ascontiguousarray(affs[nearest_channels(offs)])
    labels = np.zeros(nearest.shape[1:], dtype=label_dtype(nearest[0].size))
    _components(nearest, float(threshold), labels)
    return _finish(labels, min_instance_size)


def scoring_function(merge_function: str, quantile: int) -> str:
    """The waterz scoring type for ``mean`` or a ``quantile`` (in percent) of the affinities
    between two regions; both are compiled into waterz's wheels."""
    if merge_function not in MERGE_FUNCTIONS:
        raise VolsegError(
            f"merge_function must be one of {', '.join(MERGE_FUNCTIONS)}, got {merge_function!r}."
        )
    if merge_function == "mean":
        return "OneMinus<MeanAffinity<RegionGraphType, ScoreValue>>"
    if quantile not in QUANTILES:
        raise VolsegError(
            f"quantile must be one of {', '.join(map(str, QUANTILES))} (percent), got {quantile!r}."
        )
    return f"OneMinus<HistogramQuantileAffinity<RegionGraphType, {quantile}, ScoreValue, 256>>"


def agglomerate(
    maps: np.ndarray,
    *,
    channels: Sequence[int] | None = None,
    offsets: Any = None,
    threshold: float = 0.5,
    merge_function: str = "mean",
    quantile: int = 50,
    fragments_low: float = 0.0001,
    fragments_high: float = 0.9999,
    min_instance_size: int = 0,
) -> np.ndarray:
    """waterz agglomeration of the nearest-neighbour affinities.

    Fragments come from waterz's watershed on the affinity graph (voxels whose affinities all
    stay below ``fragments_low`` remain background); region pairs are merged in order of
    ``1 - merge_function(affinities between them)`` while that score stays below
    ``threshold``, so a higher threshold merges more.
    """
    import waterz

    affs, offs = affinity_input(maps, channels, offsets)
    threshold = _check_unit(threshold, "threshold")
    low = _check_unit(fragments_low, "fragments_low")
    high = _check_unit(fragments_high, "fragments_high")
    if low >= high:
        raise VolsegError(f"fragments_low {low} must be below fragments_high {high}.")
    nearest = np.ascontiguousarray(affs[nearest_channels(offs)], dtype=np.float32)
    function = scoring_function(merge_function, quantile)
    seg = _quiet(
        lambda: next(
            iter(
                waterz.agglomerate(
                    nearest,
                    thresholds=[threshold],
                    aff_threshold_low=low,
                    aff_threshold_high=high,
                    scoring_function=function,
                )  # fmt: skip
            )
        )
    )
    return _finish(np.array(seg, copy=True), min_instance_size)


_QUIET = threading.Lock()


def _quiet(fn: Any) -> Any:
    """Run ``fn`` with the C++ library's progress lines on stdout silenced (file descriptor
    level: waterz prints from C++, not through Python). One call at a time: file descriptor
    1 is shared by all threads (blockwise decoding runs blocks on threads)."""
    import contextlib
    import os
    import sys

    with _QUIET:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
                os.dup2(null.fileno(), 1)
                return fn()
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def mutex_weights(
    affs: np.ndarray,
    offsets: Sequence[Sequence[int]],
    *,
    bias: float,
    long_range_bias: float,
) -> np.ndarray:
    """Signed edge weights for the mutex watershed: ``aff - bias`` on the nearest-neighbour
    channels, ``aff - long_range_bias`` on the others (positive attracts, negative repels;
    ``long_range_bias`` 1 makes long-range edges purely repulsive, as torch-em does)."""
    near = set(nearest_channels(offsets))
    weights = np.empty(affs.shape, dtype=np.float64)
    for k in range(affs.shape[0]):
        weights[k] = affs[k] - (bias if k in near else long_range_bias)
    return weights


def mutex_watershed(
    maps: np.ndarray,
    *,
    channels: Sequence[int] | None = None,
    offsets: Any = None,
    bias: float = 0.5,
    long_range_bias: float = 0.5,
    strides: Sequence[int] | None = None,
    min_instance_size: int = 0,
) -> np.ndarray:
    """Mutex watershed (``mwatershed``) over all affinity channels.

    Edges are taken in order of ``|weight|`` (see :func:`mutex_weights`); an attractive edge
    joins two clusters unless a repulsive edge already separates them. ``strides`` (z, y, x)
    keeps only every n-th long-range edge, which saves time and avoids over-splitting.
    """
    import mwatershed

    affs, offs = affinity_input(maps, channels, offsets)
    bias = _check_unit(bias, "bias")
    long_range_bias = _check_unit(long_range_bias, "long_range_bias")
    weights = mutex_weights(affs, offs, bias=bias, long_range_bias=long_range_bias)
    stride_list = None
    if strides is not None:
        if len(strides) != 3 or any(int(s) < 1 for s in strides):
            raise VolsegError(f"strides must be three positive integers, got {strides!r}.")
        near = set(nearest_channels(offs))
        stride_list = [
            [1, 1, 1] if k in near else [int(s) for s in strides] for k in range(len(offs))
        ]
    labels = mwatershed.agglom(weights, [list(o) for o in offs], strides=stride_list)
    labels = np.asarray(labels)
    return _finish(labels.astype(label_dtype(labels.size), copy=False), min_instance_size)
