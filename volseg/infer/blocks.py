"""Block geometry for blockwise processing: write regions that tile a volume, read regions
that add a halo of context (daisy's ``read ROI = write ROI + context``), and the overlaps
between neighbouring blocks' read regions that stitching compares.

All regions are ``(z, y, x)`` slices in voxels of the whole volume; read regions are cut to
the volume, so blocks at the border have less context on the outer side (none is needed
there: the whole-volume decode has none either).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from volseg.errors import VolsegError

Region = tuple[slice, slice, slice]
Index = tuple[int, int, int]


def as_shape(value: int | Sequence[int], *, name: str, low: int) -> tuple[int, int, int]:
    """A (z, y, x) triple of ints >= ``low`` from an int or a sequence of three ints."""
    values = (value,) * 3 if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != 3 or not all(isinstance(v, int | np.integer) and v >= low for v in values):
        raise VolsegError(f"{name} must be three integers >= {low} (z, y, x), got {value!r}.")
    return tuple(int(v) for v in values)  # type: ignore[return-value]


def default_halo(voxel_size: Sequence[float], *, voxels: int = 16) -> tuple[int, int, int]:
    """A halo of ``voxels`` along the finest axis and at least the same physical extent on
    the others (and at least 4 voxels), e.g. ``(5, 16, 16)`` for 30 x 8 x 8 nm voxels."""
    finest = min(float(v) for v in voxel_size)
    return tuple(max(4, math.ceil(voxels * finest / float(v))) for v in voxel_size)  # type: ignore[return-value]


def _intersect(a: Region, b: Region) -> Region | None:
    out = tuple(
        slice(max(p.start, q.start), min(p.stop, q.stop)) for p, q in zip(a, b, strict=True)
    )
    return out if all(s.start < s.stop for s in out) else None  # type: ignore[return-value]


def cut_faces(read: Sequence[slice], shape: Sequence[int]) -> tuple[tuple[bool, bool], ...]:
    """Which faces of a read region lie inside the volume (the region cuts the data there)."""
    return tuple((r.start > 0, r.stop < n) for r, n in zip(read, shape, strict=True))


def relative(region: Region, origin: Region) -> Region:
    """``region`` (volume coordinates) as slices into an array that holds ``origin``."""
    return tuple(
        slice(r.start - o.start, r.stop - o.start) for r, o in zip(region, origin, strict=True)
    )  # type: ignore[return-value]


@dataclass(frozen=True)
class Block:
    """One block: its grid position, flat id (C order), write and read regions, and the
    write region grown by one voxel (``seam``), which is all that stitching compares."""

    index: Index
    id: int
    write: Region
    read: Region
    seam: Region

    @property
    def inner(self) -> Region:
        """The write region as slices into the read-region array."""
        return relative(self.write, self.read)

    @property
    def read_shape(self) -> tuple[int, int, int]:
        return tuple(s.stop - s.start for s in self.read)  # type: ignore[return-value]


@dataclass(frozen=True)
class BlockGrid:
    """Blocks of ``block_shape`` tiling ``shape`` (edge blocks cut), read with ``halo`` context.

    Args:
        shape: volume shape (z, y, x).
        block_shape: write-region shape; make it a multiple of the output chunks (and shards)
            so every block writes whole chunks.
        halo: context voxels added on each side of the write region when reading; stitching
            compares neighbouring blocks on their overlap, so every axis needs at least 1.
    """

    shape: tuple[int, int, int]
    block_shape: tuple[int, int, int]
    halo: tuple[int, int, int]

    @classmethod
    def make(
        cls,
        shape: Sequence[int],
        block_shape: int | Sequence[int],
        halo: int | Sequence[int],
    ) -> BlockGrid:
        """Validate the arguments and build the grid."""
        return cls(
            as_shape(tuple(shape), name="volume shape", low=1),
            as_shape(block_shape, name="block_shape", low=1),
            as_shape(halo, name="halo", low=1),
        )

    @cached_property
    def grid_shape(self) -> Index:
        return tuple(math.ceil(n / b) for n, b in zip(self.shape, self.block_shape, strict=True))  # type: ignore[return-value]

    @property
    def read_shape(self) -> tuple[int, int, int]:
        """The largest read region (block plus halo on both sides)."""
        return tuple(b + 2 * h for b, h in zip(self.block_shape, self.halo, strict=True))  # type: ignore[return-value]

    def __len__(self) -> int:
        return math.prod(self.grid_shape)

    def __iter__(self) -> Iterator[Block]:
        for index in itertools.product(*(range(g) for g in self.grid_shape)):
            yield self.block(index)  # type: ignore[arg-type]

    def block(self, index: Sequence[int] | int) -> Block:
        """The block at a grid position, or at a flat id."""
        if isinstance(index, int | np.integer):
            if not 0 <= index < len(self):
                raise VolsegError(f"block id {index} is outside a grid of {len(self)} blocks.")
            index = tuple(int(i) for i in np.unravel_index(int(index), self.grid_shape))
        index = tuple(int(i) for i in index)
        if len(index) != 3 or not all(
            0 <= i < g for i, g in zip(index, self.grid_shape, strict=False)
        ):
            raise VolsegError(f"block {index} is outside the grid {self.grid_shape}.")
        write = tuple(
            slice(i * b, min((i + 1) * b, n))
            for i, b, n in zip(index, self.block_shape, self.shape, strict=True)
        )
        read = self._grow(write, self.halo)  # type: ignore[arg-type]
        seam = self._grow(write, (1, 1, 1))  # type: ignore[arg-type]
        flat = int(np.ravel_multi_index(index, self.grid_shape))
        return Block(index, flat, write, read, seam)  # type: ignore[arg-type]

    def _grow(self, region: Region, width: Sequence[int]) -> Region:
        return tuple(
            slice(max(0, r.start - w), min(n, r.stop + w))
            for r, w, n in zip(region, width, self.shape, strict=True)
        )  # type: ignore[return-value]

    def forward_neighbours(self, block: Block) -> list[Block]:
        """The 26-neighbours with a larger flat id, so each adjacent pair is listed once."""
        out = []
        for step in itertools.product((-1, 0, 1), repeat=3):
            index = tuple(i + s for i, s in zip(block.index, step, strict=True))
            if any(not 0 <= i < g for i, g in zip(index, self.grid_shape, strict=True)):
                continue
            other = self.block(index)
            if other.id > block.id:
                out.append(other)
        return out

    def neighbours(self, block: Block) -> list[Block]:
        """The 26-neighbours of a block (fewer at the border of the volume)."""
        out = []
        for step in itertools.product((-1, 0, 1), repeat=3):
            index = tuple(i + s for i, s in zip(block.index, step, strict=True))
            if any(step) and all(0 <= i < g for i, g in zip(index, self.grid_shape, strict=True)):
                out.append(self.block(index))
        return out

    def overlap(self, a: Block, b: Block, *, width: int | Sequence[int] = 1) -> list[Region]:
        """The voxels where two neighbours' labels are compared when stitching: both write
        regions grown by ``width`` (at most the halo) and intersected, restricted to either
        write region (at most two disjoint boxes).

        With the default ``width=1`` this is the seam itself: the last plane of one block's
        write region and the first of the other's (for edge and corner neighbours the voxel
        rows / voxels diagonally across the shared edge or corner). Both blocks labelled
        these voxels with ``halo - 1`` voxels of context beyond them; deeper in a halo a block
        has less context than its neighbour there, and matching on the whole halo overlap
        merged many neurons on the neuroproof volume (measured: adapted Rand error 0.84
        against the whole-volume decode, against 0.0 on the seam).
        """
        width = as_shape(width, name="width", low=1)
        width = tuple(min(w, h) for w, h in zip(width, self.halo, strict=True))
        common = _intersect(self._grow(a.write, width), self._grow(b.write, width))
        if common is None:
            return []
        boxes = (_intersect(common, a.write), _intersect(common, b.write))
        return [box for box in boxes if box is not None]
