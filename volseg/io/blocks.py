"""Chunk shapes and chunk-aligned block iteration for streamed reads and writes."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from volseg.geometry import BlockGrid

Block = tuple[slice, ...]

CHUNK_VOXELS = 64**3  # about 1 MB of float32 per spatial chunk


def default_chunks(
    shape: Sequence[int], voxel_size: Sequence[float], *, channels: bool = False
) -> tuple[int, ...]:
    """Chunks of about 64^3 voxels, shaped to cover a roughly cubic physical region.

    For anisotropic EM (e.g. 40 x 4 x 4 nm) the coarse axis gets fewer voxels per chunk, e.g.
    ``(16, 128, 128)``. Sides are powers of two, clipped to the array. A leading channel axis
    is kept whole so one chunk holds all maps of a region.
    """
    spatial = shape[-3:]
    finest = min(voxel_size)
    inverse = [finest / v for v in voxel_size]
    base = (CHUNK_VOXELS / math.prod(inverse)) ** (1 / 3)
    sides = [max(1, 2 ** round(math.log2(max(1.0, base * r)))) for r in inverse]
    chunks = tuple(min(s, n) for s, n in zip(sides, spatial, strict=True))
    return (int(shape[0]), *chunks) if channels else chunks


def block_shape(
    shape: Sequence[int], unit: Sequence[int], *, itemsize: int, target_bytes: int
) -> tuple[int, ...]:
    """A block of whole ``unit`` s (chunks or shards) of at most about ``target_bytes``.

    Grows from the last axis to the first, so blocks are contiguous slabs when memory allows.
    """
    block = [min(u, n) for u, n in zip(unit, shape, strict=True)]
    for axis in reversed(range(len(shape))):
        others = math.prod(block) // block[axis]
        fit = max(1, target_bytes // max(1, others * itemsize * unit[axis]))
        block[axis] = min(shape[axis], max(block[axis], fit * unit[axis]))
        if block[axis] < shape[axis]:
            break
    return tuple(block)


def iter_blocks(shape: Sequence[int], block: Sequence[int]) -> Iterator[Block]:
    """Slices tiling ``shape`` with ``block`` (edge blocks are cut to the array), in C order:
    the write boxes of a :class:`volseg.geometry.BlockGrid` over the last three axes, repeated
    for each block of any leading axes (channels); arrays of fewer axes are tiled as 3D ones
    with leading axes of one voxel."""
    if len(shape) != len(block):
        raise ValueError(f"block {tuple(block)} does not match shape {tuple(shape)}")
    if 0 in shape:
        return
    pad = max(0, 3 - len(shape))
    full, step = (1,) * pad + tuple(shape), (1,) * pad + tuple(block)
    lead = len(full) - 3
    spatial = BlockGrid.make(full[lead:], step[lead:])
    heads = itertools.product(*(range(0, n, b) for n, b in zip(full[:lead], step, strict=False)))
    for starts in heads:
        head = tuple(slice(s, min(s + b, n)) for s, b, n in zip(starts, step, full, strict=False))
        for box in spatial.writes():
            yield (*head, *box.slices)[pad:]


def storage_chunks(data: Any) -> tuple[int, ...] | None:
    """The unit a lazy array is best read in: dask chunk, zarr shard/chunk, h5 chunk, or None."""
    chunksize = getattr(data, "chunksize", None)  # dask
    if chunksize is not None:
        return tuple(int(c) for c in chunksize)
    for name in ("shards", "chunks"):
        unit = getattr(data, name, None)
        if isinstance(unit, tuple) and unit and all(isinstance(c, int) for c in unit):
            return unit
    return None


def read_blocks(data: Any, *, target_bytes: int = 64 * 2**20) -> Iterator[tuple[Block, np.ndarray]]:
    """Yield ``(block, values)`` over ``data`` in chunk-aligned blocks of about ``target_bytes``."""
    shape = tuple(int(s) for s in data.shape)
    unit = storage_chunks(data) or (1,) * len(shape)
    block = block_shape(
        shape, unit, itemsize=np.dtype(data.dtype).itemsize, target_bytes=target_bytes
    )
    for region in iter_blocks(shape, block):
        yield region, np.asarray(data[region])
