"""Boxes and block tilings of (z, y, x) volumes: the one geometry every blockwise route uses.

A :class:`Box` is an offset and a shape in voxels; :class:`BlockGrid` tiles a volume with
blocks whose write boxes partition it and whose read boxes add a halo of context (daisy's
``read ROI = write ROI + context``), cut to the volume. Arrays are indexed with
``array[box.slices]``.

A small frozen dataclass rather than ``funlib.geometry.Roi``: volseg needs a dozen
operations, all in voxels (nm only at the edges, through :meth:`Box.to_nm`), and typed
``tuple[int, int, int]`` fields keep mypy precise where ``Roi``'s untyped coordinates would
need casts; it also avoids a dependency for ~100 lines.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from volseg.errors import VolsegError

Triple = tuple[int, int, int]
Slices = tuple[slice, slice, slice]


def triple(values: Iterable[int | np.integer]) -> Triple:
    """Three ints from any iterable of three integers (the typed way to build a ``Triple``)."""
    z, y, x = (int(v) for v in values)
    return (z, y, x)


def as_shape(value: int | Sequence[int], *, name: str, low: int) -> Triple:
    """A (z, y, x) triple of ints >= ``low`` from an int or a sequence of three ints."""
    values = (value,) * 3 if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != 3 or not all(isinstance(v, int | np.integer) and v >= low for v in values):
        raise VolsegError(f"{name} must be three integers >= {low} (z, y, x), got {value!r}.")
    return triple(values)


def default_halo(voxel_size: Sequence[float], *, voxels: int = 16) -> Triple:
    """A halo of ``voxels`` along the finest axis and at least the same physical extent on
    the others (and at least 4 voxels), e.g. ``(5, 16, 16)`` for 30 x 8 x 8 nm voxels."""
    finest = min(float(v) for v in voxel_size)
    return triple(max(4, math.ceil(voxels * finest / float(v))) for v in voxel_size)


@dataclass(frozen=True)
class Box:
    """Voxels ``offset`` up to ``offset + shape`` (exclusive) along z, y and x."""

    offset: Triple
    shape: Triple

    @classmethod
    def whole(cls, shape: Sequence[int]) -> Box:
        """The box of a whole volume of ``shape``."""
        return cls((0, 0, 0), triple(shape))

    @classmethod
    def from_bounds(cls, start: Sequence[int], stop: Sequence[int]) -> Box:
        return cls(triple(start), triple(max(0, b - a) for a, b in zip(start, stop, strict=True)))

    @classmethod
    def from_slices(cls, slices: Sequence[slice]) -> Box:
        """The box of three ``slice(start, stop)`` with explicit bounds (no step)."""
        if len(slices) != 3 or any(s.start is None or s.stop is None for s in slices):
            raise ValueError(f"a box needs three bounded slices, got {slices!r}")
        return cls.from_bounds([s.start for s in slices], [s.stop for s in slices])

    @property
    def end(self) -> Triple:
        return triple(o + n for o, n in zip(self.offset, self.shape, strict=True))

    @property
    def slices(self) -> Slices:
        z, y, x = (slice(o, e) for o, e in zip(self.offset, self.end, strict=True))
        return (z, y, x)

    @property
    def size(self) -> int:
        """Number of voxels."""
        return math.prod(self.shape)

    @property
    def empty(self) -> bool:
        return self.size == 0

    def intersect(self, other: Box) -> Box | None:
        """The common voxels, or None when there are none."""
        start = [max(a, b) for a, b in zip(self.offset, other.offset, strict=True)]
        stop = [min(a, b) for a, b in zip(self.end, other.end, strict=True)]
        box = Box.from_bounds(start, stop)
        return None if box.empty else box

    def grow(self, width: int | Sequence[int], *, within: Box | None = None) -> Box:
        """``width`` more voxels on both sides of every axis, cut to ``within`` if given."""
        w = as_shape(width, name="width", low=0)
        start = [o - d for o, d in zip(self.offset, w, strict=True)]
        stop = [e + d for e, d in zip(self.end, w, strict=True)]
        grown = Box.from_bounds(start, stop)
        return grown if within is None else grown.clip(within)

    def clip(self, within: Box) -> Box:
        """Both ends clamped into ``within`` (a box outside it becomes empty at its edge)."""
        lo, hi = within.offset, within.end
        inside = zip(self.offset, self.end, lo, hi, strict=True)
        bounds = [(min(max(s, a), b), min(max(e, a), b)) for s, e, a, b in inside]
        return Box.from_bounds([s for s, _ in bounds], [e for _, e in bounds])

    def shift(self, delta: Sequence[int]) -> Box:
        return Box(triple(o + d for o, d in zip(self.offset, delta, strict=True)), self.shape)

    def relative_to(self, origin: Box) -> Box:
        """This box in the coordinates of an array that holds ``origin``."""
        return self.shift([-o for o in origin.offset])

    def contains(self, other: Box) -> bool:
        inside = zip(self.offset, self.end, other.offset, other.end, strict=True)
        return all(a <= c and d <= b for a, b, c, d in inside)

    def cut_faces(self, volume: Sequence[int]) -> tuple[tuple[bool, bool], ...]:
        """Which faces lie inside a volume of shape ``volume`` (the box cuts the data there)."""
        ends = zip(self.offset, self.end, volume, strict=True)
        return tuple((lo > 0, hi < n) for lo, hi, n in ends)

    def to_nm(self, voxel_size: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(offset, shape)`` in nanometres for voxels of ``voxel_size`` nm."""
        v = [float(s) for s in voxel_size]
        return (
            tuple(o * s for o, s in zip(self.offset, v, strict=True)),
            tuple(n * s for n, s in zip(self.shape, v, strict=True)),
        )

    @classmethod
    def from_nm(
        cls, offset: Sequence[float], shape: Sequence[float], voxel_size: Sequence[float]
    ) -> Box:
        """The voxels touched by a physical region (start floored, end rounded up)."""
        sizes = [float(s) for s in voxel_size]
        start = [math.floor(o / s) for o, s in zip(offset, sizes, strict=True)]
        stop = [math.ceil((o + n) / s) for o, n, s in zip(offset, shape, sizes, strict=True)]
        return cls.from_bounds(start, stop)


@dataclass(frozen=True)
class Block:
    """One block of a :class:`BlockGrid`: grid position, flat id (C order), write box, read
    box (write + halo, cut to the volume) and seam (write box grown by one voxel, cut)."""

    index: Triple
    id: int
    write: Box
    read: Box
    seam: Box

    @property
    def inner(self) -> Box:
        """The write box in the coordinates of the read-box array."""
        return self.write.relative_to(self.read)


@dataclass(frozen=True)
class BlockGrid:
    """Blocks of ``block_shape`` tiling ``shape`` (edge blocks cut), read with ``halo``."""

    shape: Triple
    block_shape: Triple
    halo: Triple = (0, 0, 0)

    @classmethod
    def make(
        cls,
        shape: Sequence[int],
        block_shape: int | Sequence[int],
        halo: int | Sequence[int] = 0,
        *,
        min_halo: int = 0,
    ) -> BlockGrid:
        """Validate the arguments (``halo`` at least ``min_halo``) and build the grid."""
        return cls(
            as_shape(tuple(shape), name="volume shape", low=1),
            as_shape(block_shape, name="block_shape", low=1),
            as_shape(halo, name="halo", low=min_halo),
        )

    @property
    def volume(self) -> Box:
        return Box.whole(self.shape)

    @cached_property
    def grid_shape(self) -> Triple:
        return triple(math.ceil(n / b) for n, b in zip(self.shape, self.block_shape, strict=True))

    @property
    def read_shape(self) -> Triple:
        """The largest read box (block plus halo on both sides)."""
        return triple(b + 2 * h for b, h in zip(self.block_shape, self.halo, strict=True))

    def __len__(self) -> int:
        return math.prod(self.grid_shape)

    def __iter__(self) -> Iterator[Block]:
        for index in itertools.product(*(range(g) for g in self.grid_shape)):
            yield self.block(index)

    def writes(self) -> Iterator[Box]:
        """The write boxes in C order (a plain tiling of the volume)."""
        return (block.write for block in self)

    def block(self, index: Sequence[int] | int) -> Block:
        """The block at a grid position, or at a flat id."""
        if isinstance(index, int | np.integer):
            if not 0 <= index < len(self):
                raise VolsegError(f"block id {index} is outside a grid of {len(self)} blocks.")
            index = tuple(int(i) for i in np.unravel_index(int(index), self.grid_shape))
        at = tuple(int(i) for i in index)
        if len(at) != 3 or not all(0 <= i < g for i, g in zip(at, self.grid_shape, strict=False)):
            raise VolsegError(f"block {at} is outside the grid {self.grid_shape}.")
        sizes = list(zip(at, self.block_shape, self.shape, strict=True))
        write = Box.from_bounds(
            [i * b for i, b, _ in sizes], [min(i * b + b, n) for i, b, n in sizes]
        )
        volume = self.volume
        read = write.grow(self.halo, within=volume)
        seam = write.grow(1, within=volume)
        flat = int(np.ravel_multi_index(at, self.grid_shape))
        return Block(triple(at), flat, write, read, seam)

    def neighbours(self, block: Block) -> list[Block]:
        """The 26-neighbours of a block (fewer at the border of the volume)."""
        out = []
        for step in itertools.product((-1, 0, 1), repeat=3):
            index = [i + s for i, s in zip(block.index, step, strict=True)]
            if any(step) and all(0 <= i < g for i, g in zip(index, self.grid_shape, strict=True)):
                out.append(self.block(index))
        return out

    def forward_neighbours(self, block: Block) -> list[Block]:
        """The 26-neighbours with a larger flat id, so each adjacent pair is listed once."""
        return [other for other in self.neighbours(block) if other.id > block.id]

    def overlap(self, a: Block, b: Block, *, width: int | Sequence[int] = 1) -> list[Box]:
        """The voxels where two neighbours' labels are compared when stitching: both write
        boxes grown by ``width`` (at most the halo) and intersected, restricted to either
        write box (at most two disjoint boxes).

        With the default ``width=1`` this is the seam itself: the last plane of one block's
        write box and the first of the other's (for edge and corner neighbours the voxel
        rows / voxels diagonally across the shared edge or corner). Both blocks labelled
        these voxels with ``halo - 1`` voxels of context beyond them; deeper in a halo a block
        has less context than its neighbour there, and matching on the whole halo overlap
        merged many neurons on the neuroproof volume (measured: adapted Rand error 0.84
        against the whole-volume decode, against 0.0 on the seam).
        """
        grow = as_shape(width, name="width", low=1)
        grow = triple(min(w, h) for w, h in zip(grow, self.halo, strict=True))
        common = a.write.grow(grow, within=self.volume).intersect(
            b.write.grow(grow, within=self.volume)
        )
        if common is None:
            return []
        boxes = (common.intersect(a.write), common.intersect(b.write))
        return [box for box in boxes if box is not None]
