"""Input checks shared by the metrics: names for messages, dtypes, shapes, z-slab reading."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.volume import Volume

# Voxels per z-slab when a lazy (zarr / h5py / dask) input is read chunk by chunk.
SLAB_VOXELS = 1 << 24


def describe(x: Any, name: str) -> str:
    """Name an input for an error message: ``seg ('a.h5:labels')`` or just ``seg``."""
    path = getattr(x, "path", None) if isinstance(x, Volume) else None
    return f"{name} ({path!r})" if path else name


def unwrap(x: Any) -> Any:
    """The array behind a ``Volume``; other array-likes unchanged."""
    return x.data if isinstance(x, Volume) else x


def as_array_like(x: Any, name: str) -> Any:
    """Return ``x`` if it has ``shape``/``dtype`` and slicing, a numpy array for lists."""
    x = unwrap(x)
    if isinstance(x, np.ndarray) or (hasattr(x, "shape") and hasattr(x, "dtype")):
        return x
    try:
        return np.asarray(x)
    except (TypeError, ValueError):
        raise VolsegError(f"{name} must be an array, got {type(x).__name__}.") from None


def check_label_dtype(x: Any, name: str) -> None:
    """Labels must be integers (or bool); floats are refused."""
    dtype = np.dtype(x.dtype)
    if dtype.kind not in "uib":
        raise VolsegError(
            f"{name} must hold integer labels (0 = background), got dtype {dtype}; "
            "threshold or decode float maps first."
        )


def check_mask_dtype(x: Any, name: str) -> None:
    """Masks are boolean or integer (non-zero = evaluate)."""
    dtype = np.dtype(x.dtype)
    if dtype.kind not in "uib":
        raise VolsegError(f"{name} must be boolean or integer (non-zero = evaluate), got {dtype}.")


def check_same_shape(a: Any, b: Any, name_a: str, name_b: str) -> None:
    """Both arrays must have the same shape."""
    shape_a, shape_b = tuple(a.shape), tuple(b.shape)
    if shape_a != shape_b:
        raise VolsegError(
            f"{name_a} has shape {shape_a} but {name_b} has shape {shape_b}; they must be equal."
        )


def flat_labels(block: np.ndarray, name: str) -> np.ndarray:
    """A 1-D C-order view (copy only if needed) of a label block; refuses negative ids."""
    block = np.asarray(block)
    if block.dtype.kind == "b":
        block = block.view(np.uint8)
    elif not block.dtype.isnative:  # e.g. big-endian h5 data; the kernel needs native order
        block = block.astype(block.dtype.newbyteorder("="))
    if block.dtype.kind == "i" and block.size and int(block.min()) < 0:
        raise VolsegError(
            f"{name} contains negative label {int(block.min())}; labels must be >= 0 "
            "(use a separate mask for ignore regions)."
        )
    if block.dtype.kind == "i":  # non-negative: same bits as unsigned; fewer kernel variants
        block = block.view(block.dtype.str.replace("i", "u"))
    return np.ascontiguousarray(block).reshape(-1)


def flat_mask(block: np.ndarray) -> np.ndarray:
    """A 1-D boolean C-order array from a mask block (non-zero = keep)."""
    block = np.asarray(block)
    if block.dtype != np.bool_:
        block = block != 0
    return np.ascontiguousarray(block).reshape(-1)


def is_in_memory(x: Any) -> bool:
    """True for numpy arrays (read in one pass), False for lazy arrays (read in z-slabs)."""
    return isinstance(x, np.ndarray)


def _chunk_depth(x: Any) -> int | None:
    """z-extent of one storage unit: zarr shard, dask/zarr/h5py chunk; None if unchunked."""
    for attr in ("shards", "chunksize", "chunks"):
        value = getattr(x, attr, None)
        if isinstance(value, tuple) and value and isinstance(value[0], int | np.integer):
            return int(value[0])
    return None


def slab_depth(arrays: list[Any], shape: tuple[int, ...], depth: int | None) -> int:
    """Number of z-planes per slab: ``depth`` if given, else whole chunks of ~16 M voxels."""
    if depth is not None:
        if int(depth) < 1:
            raise VolsegError(f"slab_z must be a positive number of z-planes, got {depth}.")
        return int(depth)
    plane = int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1
    chunk = next((c for c in map(_chunk_depth, arrays) if c), 1)
    return chunk * max(1, SLAB_VOXELS // max(1, chunk * plane))


def iter_slabs(n_z: int, depth: int) -> Iterator[slice]:
    """Slices ``[z0:z1]`` covering ``0..n_z`` in steps of ``depth``."""
    for z0 in range(0, n_z, depth):
        yield slice(z0, min(n_z, z0 + depth))
