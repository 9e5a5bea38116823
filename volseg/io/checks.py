"""Input validation for raw images and labels, chunk by chunk (never the whole volume at once)."""

from __future__ import annotations

from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.blocks import read_blocks
from volseg.io.volume import Volume


def _parts(volume: Volume | Any) -> tuple[Any, str]:
    if isinstance(volume, Volume):
        return volume.data, volume.path or "the given volume"
    return volume, "the given array"


def _where(block: tuple[slice, ...]) -> str:
    return "[" + ", ".join(f"{s.start}:{s.stop}" for s in block) + "]"


def _blocks(data: Any, chunked: bool) -> Any:
    if chunked:
        return read_blocks(data)
    return iter([(tuple(slice(0, n) for n in data.shape), np.asarray(data[...]))])


def label_dtype_error(dtype: Any, where: str) -> VolsegError | None:
    """The error for a dtype that cannot hold labels (floats, complex, strings), else ``None``."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_ or np.issubdtype(dtype, np.integer):
        return None
    return VolsegError(f"labels must be integers, got {dtype} in {where}.")


def negative_label_error(values: np.ndarray, where: str) -> VolsegError | None:
    """The error for a block of signed labels holding negative values, else ``None``."""
    if values.size and np.issubdtype(values.dtype, np.signedinteger):
        low = values.min()
        if low < 0:
            return VolsegError(f"labels must be non-negative, found {low} in {where}.")
    return None


def check_labels(volume: Volume | Any, *, chunked: bool = True) -> None:
    """Labels must be integers (or bool) and non-negative.

    Raises:
        VolsegError: float labels ("labels must be integers, got float32 in <path>") or
            negative values (signed dtypes are scanned chunk by chunk).
    """
    data, where = _parts(volume)
    error = label_dtype_error(data.dtype, where)
    if error:
        raise error
    if not np.issubdtype(np.dtype(data.dtype), np.signedinteger):
        return
    for block, values in _blocks(data, chunked):
        error = negative_label_error(values, f"{where} (block {_where(tuple(block))})")
        if error:
            raise error


def check_raw(volume: Volume | Any, *, chunked: bool = True) -> None:
    """Raw images must be real numbers without NaN or inf (floats are scanned chunk by chunk).

    Raises:
        VolsegError: a non-numeric dtype, or a block holding NaN / inf (named in the message).
    """
    data, where = _parts(volume)
    dtype = np.dtype(data.dtype)
    if not (
        dtype == np.bool_ or np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    ):
        raise VolsegError(f"raw images must be real numbers, got {dtype} in {where}.")
    if not np.issubdtype(dtype, np.floating):
        return
    for block, values in _blocks(data, chunked):
        if not np.isfinite(values).all():
            bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            raise VolsegError(
                f"raw image {where} contains {bad} NaN or inf values "
                f"in block {_where(tuple(block))}."
            )


def check_same_shape(
    a: Volume | Any, b: Volume | Any, names: tuple[str, str] = ("raw", "labels")
) -> None:
    """Two volumes must cover the same (z, y, x) grid (a leading channel axis is ignored).

    Raises:
        VolsegError: the spatial shapes differ (both shapes and both names are in the message).
    """
    shape_a, shape_b = tuple(a.shape)[-3:], tuple(b.shape)[-3:]
    if shape_a != shape_b:
        where_a = f" ({a.path})" if isinstance(a, Volume) and a.path else ""
        where_b = f" ({b.path})" if isinstance(b, Volume) and b.path else ""
        raise VolsegError(
            f"{names[0]}{where_a} has shape {shape_a} but {names[1]}{where_b} has shape "
            f"{shape_b}; they must match."
        )
