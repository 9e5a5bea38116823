"""Where training patches come from: uniform and foreground-biased windows, validation tiles.

A *window* is a box of ``D`` data-grid voxels (the patch extent, see
:func:`volseg.data.resample.data_extent`) inside a region padded by ``pad`` voxels on each side;
its start may therefore lie up to ``pad`` voxels before the region (the reader fills the outside
by padding with the region's own voxels).

Foreground sampling uses a coarse :class:`RegionIndex` built once per region, chunk-wise (blocks
of whole cells of about 32 MB, never the whole volume at once): for every cell (half a patch per
axis) the number of valid voxels, of valid foreground voxels, and up to ``per_cell`` foreground
voxel positions drawn at random. A foreground window is centred on one of those positions,
picked with probability proportional to its cell's foreground count (so about uniformly over
foreground voxels), then shifted as little as needed to stay inside the padded region.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from volseg.data.split import Region
from volseg.io.blocks import block_shape, iter_blocks

Triple = tuple[int, int, int]


class Window(NamedTuple):
    """Window ``start`` (absolute data-grid voxels, may be negative) in region ``region``."""

    region: int
    start: Triple


@dataclass
class RegionIndex:
    """Coarse foreground / valid-voxel index of one region (see the module docstring)."""

    valid: int
    foreground: int
    points: np.ndarray  # (n, 3) int64 absolute voxel positions of sampled foreground voxels
    weights: np.ndarray  # (n,) float64: cell foreground count / points kept in that cell


def build_index(
    labels: Any,
    mask: Any | None,
    region: Region,
    *,
    cell: Sequence[int],
    per_cell: int = 32,
    seed: int = 0,
    block_bytes: int = 32 * 2**20,
) -> RegionIndex:
    """Index the valid and foreground voxels of ``region`` (labels > 0 and mask != 0), reading
    blocks of whole cells of about ``block_bytes`` of labels at a time."""
    rng = np.random.default_rng([seed, region.volume, *region.start])
    cell = tuple(max(1, min(int(c), s)) for c, s in zip(cell, region.shape, strict=True))
    itemsize = np.dtype(labels.dtype).itemsize
    block = block_shape(region.shape, cell, itemsize=itemsize, target_bytes=block_bytes)
    valid = foreground = 0
    points: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for rel in iter_blocks(region.shape, block):
        absolute = tuple(
            slice(s.start + o, s.stop + o) for s, o in zip(rel, region.start, strict=True)
        )
        lab = np.asarray(labels[absolute])
        ok = None if mask is None else np.asarray(mask[absolute]) != 0
        valid += lab.size if ok is None else int(np.count_nonzero(ok))
        fg = lab > 0 if ok is None else (lab > 0) & ok
        for sub in iter_blocks(fg.shape, cell):
            flat = np.flatnonzero(fg[sub])
            if flat.size == 0:
                continue
            foreground += flat.size
            if per_cell <= 0:
                continue
            keep = rng.choice(flat, size=min(per_cell, flat.size), replace=False)
            local = np.stack(np.unravel_index(keep, fg[sub].shape), axis=1)
            offset = [a.start + s.start for a, s in zip(absolute, sub, strict=True)]
            points.append(local + np.asarray(offset))
            weights.append(np.full(keep.size, flat.size / keep.size))
    return RegionIndex(
        valid=valid,
        foreground=foreground,
        points=np.concatenate(points) if points else np.zeros((0, 3), np.int64),
        weights=np.concatenate(weights) if weights else np.zeros(0),
    )


def start_range(region: Region, patch: Sequence[int], pad: Sequence[int]) -> tuple[Triple, Triple]:
    """Lowest and highest window start (inclusive) inside the padded ``region``."""
    lo = tuple(a - p for a, p in zip(region.start, pad, strict=True))
    hi = tuple(b + p - d for b, p, d in zip(region.stop, pad, patch, strict=True))
    return lo, hi  # type: ignore[return-value]


class PatchSampler:
    """Draws training windows over ``regions``; ``geometry[i]`` is ``(patch, pad)`` of region i.

    Args:
        regions: training regions.
        geometry: per region, patch extent and padding in data-grid voxels.
        indexes: per region :class:`RegionIndex`, needed for :meth:`foreground`.
    """

    def __init__(
        self,
        regions: Sequence[Region],
        geometry: Sequence[tuple[Triple, Triple]],
        indexes: Sequence[RegionIndex] | None = None,
    ) -> None:
        self.regions = list(regions)
        self.geometry = list(geometry)
        self.ranges = [start_range(r, *g) for r, g in zip(self.regions, self.geometry, strict=True)]
        counts = [math.prod(h - lo + 1 for lo, h in zip(*rg, strict=True)) for rg in self.ranges]
        self._uniform_cdf = np.cumsum(np.asarray(counts, dtype=np.float64))
        self.indexes = list(indexes) if indexes is not None else None
        self._fg_cdf = None
        self._fg_owner = None
        if self.indexes is not None:
            weights = [ix.weights for ix in self.indexes]
            self._fg_owner = np.concatenate(
                [np.full(len(w), i) for i, w in enumerate(weights)] or [np.zeros(0, int)]
            )
            self._fg_cdf = np.cumsum(np.concatenate(weights or [np.zeros(0)]))

    @property
    def has_foreground(self) -> bool:
        return self._fg_cdf is not None and self._fg_cdf.size > 0 and self._fg_cdf[-1] > 0

    def uniform(self, rng: np.random.Generator) -> Window:
        """A window drawn uniformly over every valid start of every region."""
        cdf = self._uniform_cdf
        i = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        lo, hi = self.ranges[i]
        start = tuple(int(rng.integers(a, b + 1)) for a, b in zip(lo, hi, strict=True))
        return Window(i, start)  # type: ignore[arg-type]

    def foreground(self, rng: np.random.Generator) -> Window:
        """A window centred (as far as it fits) on a sampled foreground voxel."""
        if not self.has_foreground:
            raise RuntimeError("foreground sampling needs an index with foreground voxels")
        cdf = self._fg_cdf
        k = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), cdf.size - 1)
        i = int(self._fg_owner[k])
        ix = self.indexes[i]
        first = int(np.searchsorted(self._fg_owner, i))
        centre = ix.points[k - first]
        patch = self.geometry[i][0]
        lo, hi = self.ranges[i]
        start = tuple(
            int(min(max(c - d // 2, a), b))
            for c, d, a, b in zip(centre, patch, lo, hi, strict=True)
        )
        return Window(i, start)  # type: ignore[arg-type]


def tile_starts(region: Region, patch: Sequence[int]) -> list[Triple]:
    """Window starts tiling ``region`` with ``patch``-sized windows (the last one flush with the
    region's end; a region smaller than the patch gets one window centred on it)."""
    per_axis = []
    for a, b, d in zip(region.start, region.stop, patch, strict=True):
        extent = b - a
        if extent <= d:
            per_axis.append([a - (d - extent) // 2])
            continue
        starts = list(range(a, b - d + 1, d))
        if starts[-1] != b - d:
            starts.append(b - d)
        per_axis.append(starts)
    return [(z, y, x) for z in per_axis[0] for y in per_axis[1] for x in per_axis[2]]
