"""Reads that fail loudly: non-finite voxels, missing chunks and corrupt chunks are errors.

Every volume :func:`volseg.io.open_volume` returns reads through :class:`CheckedArray`:

- a float block holding NaN or inf is an error naming the file and the block, as it is read
  (block by block, so the check costs one pass over data that is read anyway);
- a chunk that cannot be decoded (corrupt bytes, truncated file) is an error naming the file,
  the block and what to do, instead of a codec traceback;
- a zarr array with chunks missing on disk is an error when it is opened
  (:func:`check_chunks`), because zarr would silently read them as the fill value. Missing
  chunks are allowed only where the user chose fill-value semantics: the array's (or its
  group's) attribute ``volseg.missing_chunks = "fill"``, or ``VOLSEG_MISSING_CHUNKS=fill`` in
  the environment. Unfinished volseg outputs (``volseg.complete = false``) are skipped: their
  unwritten blocks are still to come.

volseg writes every chunk, fill-valued or not (``write_empty_chunks``), so its own outputs
never look damaged.
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from volseg.errors import VolsegError

MISSING_ENV = "VOLSEG_MISSING_CHUNKS"


def write_every_chunk() -> None:
    """Make zarr store fill-valued chunks too, so a missing chunk always means damage."""
    import zarr

    zarr.config.set({"array.write_empty_chunks": True})


def _region_text(index: Any, shape: tuple[int, ...]) -> str:
    index = index if isinstance(index, tuple) else (index,)
    if any(item is Ellipsis for item in index):
        at = next(i for i, item in enumerate(index) if item is Ellipsis)
        fill = (slice(None),) * (len(shape) - len(index) + 1)
        index = index[:at] + fill + index[at + 1 :]
    index = index + (slice(None),) * (len(shape) - len(index))
    parts = []
    for item, n in zip(index, shape, strict=False):
        if isinstance(item, slice):
            start, stop, _ = item.indices(n)
            parts.append(f"{start}:{stop}")
        else:
            parts.append(str(item))
    return "[" + ", ".join(parts) + "]"


class CheckedArray:
    """A read-only view of an array whose reads are checked (see the module docstring).

    Attributes other than ``__getitem__`` (``shape``, ``dtype``, ``chunks``, ``attrs`` ...)
    are those of the wrapped array.
    """

    def __init__(self, array: Any, where: str) -> None:
        self._array = array
        self._where = where
        self._float = np.issubdtype(np.dtype(array.dtype), np.floating)

    @property
    def wrapped(self) -> Any:
        """The underlying array (zarr, h5py, numpy ...)."""
        return self._array

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_array", "_where", "_float"):
            raise AttributeError(name)
        return getattr(self._array, name)

    def __len__(self) -> int:
        return len(self._array)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = self[...]
        return values if dtype is None else values.astype(dtype, copy=False)

    def __getitem__(self, index: Any) -> Any:
        try:
            values = self._array[index]
        except VolsegError:
            raise
        except (MemoryError, KeyboardInterrupt, IndexError, TypeError):
            raise
        except Exception as exc:  # zarr / numcodecs / h5py raise many types for bad bytes
            raise VolsegError(
                f"cannot read block {_region_text(index, self.shape)} of {self._where}: a chunk "
                f"is corrupt or unreadable ({type(exc).__name__}: {str(exc)[:120]}); restore "
                "the file from a copy or write the volume again."
            ) from None
        if self._float:
            finite = np.isfinite(values)
            if not np.all(finite):
                bad = int(np.size(values) - np.count_nonzero(finite))
                raise VolsegError(
                    f"{self._where} holds {bad} NaN or inf values in block "
                    f"{_region_text(index, self.shape)}; replace them (e.g. with the image "
                    "mean) before using this volume."
                )
        return values

    def __reduce__(self) -> tuple[Any, ...]:
        return (CheckedArray, (self._array, self._where))


def checked(array: Any, where: str) -> Any:
    """``array`` wrapped in :class:`CheckedArray` (a wrapped array is returned as it is)."""
    return array if isinstance(array, CheckedArray) else CheckedArray(array, where)


def _fill_allowed(*attr_sets: dict[str, Any]) -> bool:
    if os.environ.get(MISSING_ENV, "").strip().lower() == "fill":
        return True
    for attrs in attr_sets:
        volseg = attrs.get("volseg") if isinstance(attrs, dict) else None
        if isinstance(volseg, dict) and volseg.get("missing_chunks") == "fill":
            return True
    return False


def _unfinished(*attr_sets: dict[str, Any]) -> bool:
    for attrs in attr_sets:
        volseg = attrs.get("volseg") if isinstance(attrs, dict) else None
        if isinstance(volseg, dict) and volseg.get("complete") is False:
            return True
    return False


def _array_dir(array: Any) -> Path | None:
    import zarr

    store = getattr(array, "store", None)
    if not isinstance(store, zarr.storage.LocalStore):
        return None
    return Path(store.root).joinpath(*[p for p in array.path.split("/") if p])


def check_not_empty(shape: Any, where: str) -> None:
    """Refuse a volume with no voxels (an axis of length 0).

    Raises:
        VolsegError: naming the volume and its shape.
    """
    shape = tuple(int(n) for n in shape)
    if 0 in shape:
        raise VolsegError(f"{where} is empty (shape {shape}); expected a volume with voxels.")


def check_chunks(array: Any, where: str, *, group_attrs: dict[str, Any] | None = None) -> None:
    """Refuse a local zarr array with chunk (or shard) files missing (module docstring).

    Raises:
        VolsegError: the array is empty, or the first missing chunk, its block and what to do.
    """
    check_not_empty(array.shape, where)
    folder = _array_dir(array)
    if folder is None or not folder.is_dir():
        return
    attrs = dict(array.attrs)
    if _unfinished(attrs, group_attrs or {}) or _fill_allowed(attrs, group_attrs or {}):
        return
    unit = tuple(array.shards or array.chunks)
    grid = tuple(math.ceil(n / c) for n, c in zip(array.shape, unit, strict=True))
    expected = math.prod(grid)
    present = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs", ".zgroup")
    }
    if len(present) >= expected:
        return
    encode = array.metadata.encode_chunk_key
    for coords in itertools.product(*(range(g) for g in grid)):
        key = encode(coords)
        if key not in present:
            block = ", ".join(
                f"{i * c}:{min((i + 1) * c, n)}"
                for i, c, n in zip(coords, unit, array.shape, strict=True)
            )
            raise VolsegError(
                f"{where} is missing chunk {key} (block [{block}]) of {expected - len(present)} "
                f"missing; zarr would read it as the fill value {array.fill_value}. Restore it "
                f"from a copy, or if missing chunks mean the fill value, set {MISSING_ENV}=fill "
                'or the attribute volseg.missing_chunks = "fill".'
            )
