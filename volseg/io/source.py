"""Validate data for writing and convert it, block by block, to the dtype stored on disk.

kinds: ``image`` (3D, any real dtype, kept), ``labels`` (3D integers >= 0 -> uint32, or uint64
when ids exceed uint32), ``mask`` (3D bool or integer, stored as bool: non-zero = True),
``maps`` (4D ``(c, z, y, x)`` float -> float32, or uint8 when quantised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.blocks import read_blocks
from volseg.io.checks import label_dtype_error, negative_label_error
from volseg.io.volume import Volume

KINDS = ("image", "labels", "maps", "mask")
UINT32_MAX = np.iinfo(np.uint32).max


def is_dask(data: Any) -> bool:
    """True for a dask array (checked without importing dask)."""
    return type(data).__module__.startswith("dask.") and hasattr(data, "dask")


@dataclass
class Source:
    """Data to write, with the dtype it is stored as and where it came from."""

    data: Any
    dtype: np.dtype
    kind: str
    where: str
    volume: Volume | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.data.shape)

    def convert(self, values: np.ndarray) -> np.ndarray:
        """Check one block and cast it to the stored dtype."""
        values = np.asarray(values)
        if self.kind == "labels":
            error = negative_label_error(values, self.where)
            if error:
                raise error
        if self.kind == "mask":
            return (values != 0).astype(self.dtype, copy=False)
        return values.astype(self.dtype, copy=False)

    def as_label_image(self) -> Source:
        """OME label images must be integers: a mask inside ``labels/`` is stored as uint8 0/1."""
        if self.kind == "mask":
            self.dtype = np.dtype(np.uint8)
        return self


def _min_max(data: Any) -> tuple[int, int]:
    if isinstance(data, np.ndarray):
        return (int(data.min()), int(data.max())) if data.size else (0, 0)
    if is_dask(data):
        import dask

        low, high = dask.compute(data.min(), data.max())
        return int(low), int(high)
    low, high = 0, 0
    for _, values in read_blocks(data):
        if values.size:
            low, high = min(low, int(values.min())), max(high, int(values.max()))
    return low, high


def _label_dtype(data: Any, where: str) -> np.dtype:
    error = label_dtype_error(data.dtype, where)
    if error:
        raise error
    dtype = np.dtype(data.dtype)
    if dtype.itemsize < 8:
        return np.dtype(np.uint32)
    low, high = _min_max(data)  # 64-bit input: one scan decides uint32 or uint64
    if low < 0:
        raise VolsegError(f"labels must be non-negative, found {low} in {where}.")
    return np.dtype(np.uint64 if high > UINT32_MAX else np.uint32)


def _stored_dtype(data: Any, kind: str, where: str) -> np.dtype:
    dtype = np.dtype(data.dtype)
    if kind == "labels":
        return _label_dtype(data, where)
    if kind == "mask":
        if dtype != np.bool_ and not np.issubdtype(dtype, np.integer):
            raise VolsegError(f"masks must be bool or integer, got {dtype} in {where}.")
        return np.dtype(np.bool_)
    if kind == "maps":
        if np.issubdtype(dtype, np.floating):
            return np.dtype(np.float32)
        if dtype == np.uint8:
            return dtype
        raise VolsegError(f"maps must be float32 or uint8 (quantised), got {dtype} in {where}.")
    real = np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    if not (real or dtype == np.bool_):
        raise VolsegError(f"images must hold real numbers, got {dtype} in {where}.")
    return dtype


def prepare(data: Any, *, kind: str, where: str) -> Source:
    """Check ``data`` for ``kind`` and return a ``Source`` to stream from.

    Raises:
        VolsegError: unknown kind, wrong number of dimensions, or a dtype the kind cannot hold.
    """
    if kind not in KINDS:
        raise VolsegError(f"kind must be one of {list(KINDS)}, got {kind!r}.")
    volume = data if isinstance(data, Volume) else None
    array = data.data if volume is not None else data
    if not (hasattr(array, "shape") and hasattr(array, "dtype")):
        array = np.asarray(array)
    ndim = len(array.shape)
    expected = 4 if kind == "maps" else 3
    if ndim != expected:
        axes = "(c, z, y, x)" if kind == "maps" else "(z, y, x)"
        raise VolsegError(
            f"{kind} for {where} must be {expected}D {axes}, got shape {tuple(array.shape)}."
        )
    if 0 in tuple(array.shape):
        raise VolsegError(f"cannot write an empty array (shape {tuple(array.shape)}) to {where}.")
    dtype = _stored_dtype(array, kind, where)
    attrs = dict(volume.attrs) if volume is not None else {}
    return Source(array, dtype, kind, where, volume=volume, attrs=attrs)
