"""The global sliding-window grid, its blending weights, and blocks made of whole windows.

Window placement follows ``monai.inferers.sliding_window_inference`` exactly, so volseg and
MONAI agree voxel for voxel: an axis shorter than the window is padded symmetrically up to the
window; the scan interval is ``int(window * (1 - overlap))`` (at least 1, the window itself
when it spans the axis); windows start at multiples of the interval and the last one is shifted
back to end at the border. Every prediction mode (in memory, streamed, blockwise on Dask) uses
the same grid, so results do not depend on how a volume is cut into blocks.

Coordinates called *padded* count voxels of the padded volume (``pad_before`` added).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from volseg.errors import VolsegError
from volseg.geometry import Box, Slices, Triple, triple

Region = Slices
Ranges = tuple[range, range, range]
Start = Triple


def _ranges(values: Iterable[range]) -> Ranges:
    z, y, x = values
    return (z, y, x)


def _region(values: Iterable[slice]) -> Region:
    z, y, x = values
    return (z, y, x)


def scan_interval(size: int, window: int, overlap: float) -> int:
    """Distance between window starts along one axis (``size`` already padded to the window)."""
    if window == size:
        return window
    return max(1, int(window * (1 - overlap)))


def axis_starts(size: int, window: int, interval: int) -> tuple[int, ...]:
    """Window starts along one axis: multiples of ``interval``, the last one shifted inside."""
    count = 1
    while (count - 1) * interval + window < size:
        count += 1
    return tuple(min(i * interval, size - window) for i in range(count))


@dataclass(frozen=True)
class WindowGrid:
    """Where the windows lie on a volume.

    Attributes:
        shape: spatial shape of the (unpadded) volume.
        window: window shape.
        pad_before: voxels added before each axis (only axes shorter than the window).
        pad_after: voxels added after each axis.
        starts: window starts per axis, in padded coordinates.
    """

    shape: Start
    window: Start
    pad_before: Start
    pad_after: Start
    starts: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]

    @property
    def padded_shape(self) -> Start:
        sizes = zip(self.shape, self.pad_before, self.pad_after, strict=True)
        return triple(n + a + b for n, a, b in sizes)

    @property
    def counts(self) -> Start:
        """Number of windows along each axis."""
        return triple(len(s) for s in self.starts)

    @property
    def size(self) -> int:
        """Total number of windows."""
        return int(np.prod(self.counts))

    def all_ranges(self) -> Ranges:
        return _ranges(range(c) for c in self.counts)

    def windows(self, ranges: Ranges) -> list[Start]:
        """Window starts (padded coordinates) of the index ranges, in C order like MONAI."""
        per_axis = [[self.starts[a][i] for i in r] for a, r in enumerate(ranges)]
        return [triple(s) for s in itertools.product(*per_axis)]

    def touching(self, region: Region) -> Ranges:
        """Index ranges of the windows that overlap ``region`` (padded coordinates)."""
        out = []
        for starts, w, sl in zip(self.starts, self.window, region, strict=True):
            lo = bisect.bisect_right(starts, sl.start - w)
            hi = bisect.bisect_left(starts, sl.stop)
            out.append(range(lo, max(lo, hi)))
        return _ranges(out)

    def cover(self, ranges: Ranges) -> Region:
        """Bounding box (padded coordinates) of the windows in ``ranges``."""
        return _region(
            slice(starts[r[0]], starts[r[-1]] + w)
            for starts, w, r in zip(self.starts, self.window, ranges, strict=True)
        )

    def to_padded(self, region: Region) -> Region:
        """Unpadded volume coordinates to padded ones."""
        return Box.from_slices(region).shift(self.pad_before).slices

    def to_volume(self, region: Region) -> Region:
        """Padded coordinates to volume coordinates, clipped to the volume."""
        moved = Box.from_slices(region).shift([-p for p in self.pad_before])
        return moved.clip(Box.whole(self.shape)).slices


def make_grid(shape: Sequence[int], window: Sequence[int], overlap: float) -> WindowGrid:
    """The MONAI window grid for a volume of spatial ``shape``.

    Raises:
        VolsegError: a non-positive shape or window, or an overlap outside [0, 1).
    """
    shape = tuple(int(n) for n in shape)
    window = tuple(int(w) for w in window)
    if len(shape) != 3 or len(window) != 3 or min(shape) < 1 or min(window) < 1:
        raise VolsegError(
            f"sliding window needs a 3D shape and window of positive sizes, got shape {shape} "
            f"and window {window}."
        )
    if not 0.0 <= overlap < 1.0:
        raise VolsegError(f"inference.sliding_window.overlap must be in [0, 1), got {overlap}.")
    before, after, starts = [], [], []
    for n, w in zip(shape, window, strict=True):
        diff = max(w - n, 0)
        before.append(diff // 2)
        after.append(diff - diff // 2)
        size = max(n, w)
        starts.append(axis_starts(size, w, scan_interval(size, w, overlap)))
    z, y, x = starts
    return WindowGrid(triple(shape), triple(window), triple(before), triple(after), (z, y, x))


def importance_map(window: Sequence[int], *, blending: str, sigma_scale: float) -> np.ndarray:
    """Blending weights of one window, as ``monai.data.utils.compute_importance_map``.

    ``gaussian``: a separable Gaussian with sigma ``sigma_scale * window`` per axis, centred on
    the window, floored at ``max(min, 1e-3)``; ``constant``: ones. Computed in torch float32
    with the same operations as MONAI so the weights agree bit for bit.
    """
    import torch

    window = tuple(int(w) for w in window)
    if blending == "constant":
        return np.ones(window, dtype=np.float32)
    if blending != "gaussian":
        raise VolsegError(
            f"inference.sliding_window.blending must be gaussian or constant, got {blending!r}."
        )
    if sigma_scale <= 0:
        raise VolsegError(f"inference.sliding_window.sigma_scale must be > 0, got {sigma_scale}.")
    weights = None
    for i, w in enumerate(window):
        sigma = w * sigma_scale
        x = torch.arange(-(w - 1) / 2.0, (w - 1) / 2.0 + 1, dtype=torch.float)
        x = torch.exp(x**2 / (-2 * sigma**2))
        weights = x if weights is None else weights.unsqueeze(-1) * x[(None,) * i]
    assert weights is not None
    floor = max(torch.min(weights).item(), 1e-3)
    return torch.clamp(weights, min=floor).numpy().astype(np.float32, copy=False)


def axis_groups(count: int, per_block: int) -> list[range]:
    """Split ``count`` window indices into consecutive groups of ``per_block``."""
    per_block = max(1, int(per_block))
    return [range(i, min(i + per_block, count)) for i in range(0, count, per_block)]


@dataclass(frozen=True)
class WindowBlocks:
    """A partition of the window grid into blocks of whole windows, in raster order.

    Block ``b`` owns the padded voxels from its first window start up to the first start of
    the next block along each axis. Windows only spill forward (into later blocks), so in
    raster order a block's own voxels are final once the block itself has run.
    """

    grid: WindowGrid
    groups: tuple[list[range], list[range], list[range]]

    @property
    def shape(self) -> Start:
        """Number of blocks along each axis."""
        return triple(len(g) for g in self.groups)

    def __iter__(self) -> Iterator[Start]:
        return (triple(b) for b in itertools.product(*(range(n) for n in self.shape)))

    def ranges(self, block: Start) -> Ranges:
        return _ranges(g[b] for g, b in zip(self.groups, block, strict=True))

    def _firsts(self, axis: int) -> list[int]:
        """Padded start of every block along ``axis``, then the padded size."""
        starts = self.grid.starts[axis]
        return [starts[g[0]] for g in self.groups[axis]] + [self.grid.padded_shape[axis]]

    def owned_box(self, block: Sequence[int]) -> Box:
        """Padded voxels this block finalises."""
        bounds = [self._firsts(a)[b : b + 2] for a, b in enumerate(block)]
        return Box.from_bounds([lo for lo, _ in bounds], [hi for _, hi in bounds])

    def owned(self, block: Start) -> Region:
        """Padded voxels this block finalises, as slices."""
        return self.owned_box(block).slices

    def block_of(self, index: Sequence[int]) -> Start:
        """The block owning padded voxel ``index``."""
        return triple(bisect.bisect_right(self._firsts(a), i) - 1 for a, i in enumerate(index))

    def split(self, region: Region) -> list[tuple[Start, Region]]:
        """Pieces of ``region`` with the block owning each, in raster order of blocks."""
        box = Box.from_slices(region)
        if box.empty:
            return []
        first, last = self.block_of(box.offset), self.block_of([e - 1 for e in box.end])
        out = []
        for ranges in itertools.product(*map(range, first, [b + 1 for b in last])):
            piece = self.owned_box(ranges).intersect(box)
            if piece is not None:
                out.append((triple(ranges), piece.slices))
        return out


def window_blocks(grid: WindowGrid, block_shape: Sequence[int] | None) -> WindowBlocks:
    """Blocks of about ``block_shape`` voxels made of whole windows of ``grid``; ``None`` = one
    block holding every window."""
    if block_shape is None:
        z, y, x = ([range(c)] for c in grid.counts)
        return WindowBlocks(grid, (z, y, x))
    groups = []
    for a, b in enumerate(block_shape):
        starts = grid.starts[a]
        step = starts[1] - starts[0] if len(starts) > 1 else grid.window[a]
        groups.append(axis_groups(len(starts), max(1, round(int(b) / step))))
    z, y, x = groups
    return WindowBlocks(grid, (z, y, x))
