"""The ``Volume`` object: array data with its physical voxel size and offset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from volseg.errors import VolsegError

Triple = tuple[float, float, float]


def as_triple(value: Any, *, name: str = "voxel_size") -> Triple:
    """Return ``value`` as a (z, y, x) float triple; a scalar means isotropic."""
    if np.isscalar(value):
        value = (value, value, value)
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise VolsegError(f"{name} must be three numbers (z, y, x), got {value!r}.") from None
    if len(out) != 3:
        raise VolsegError(f"{name} must be three numbers (z, y, x), got {value!r}.")
    return out  # type: ignore[return-value]


@dataclass
class Volume:
    """A lazily-read array with physical metadata.

    Attributes:
        data: array-like with ``shape``, ``dtype`` and numpy slicing (numpy, zarr, h5py, dask).
            Spatial volumes are ``(z, y, x)``, maps are channel-first ``(c, z, y, x)``.
        voxel_size: voxel size in nanometres, ``(z, y, x)``.
        offset: world position of voxel ``(0, 0, 0)`` in nanometres, ``(z, y, x)``.
        path: where the data was read from (for error messages), if anywhere.
        attrs: extra metadata (e.g. map quantisation), copied on write.
        closer: releases the open file behind ``data`` (set by the h5 and tif readers); call
            :meth:`close` or use the volume as a context manager to release it early.
    """

    data: Any
    voxel_size: Triple = (1.0, 1.0, 1.0)
    offset: Triple = (0.0, 0.0, 0.0)
    path: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    closer: Callable[[], None] | None = field(default=None, repr=False, compare=False, kw_only=True)

    def __post_init__(self) -> None:
        self.voxel_size = as_triple(self.voxel_size, name="voxel_size")
        self.offset = as_triple(self.offset, name="offset")
        if any(v <= 0 for v in self.voxel_size):
            raise VolsegError(f"voxel_size must be positive nanometres, got {self.voxel_size}.")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.data.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        return self.shape[-3:]  # type: ignore[return-value]

    def __getitem__(self, index: Any) -> np.ndarray:
        """Read a crop into memory (only the chunks it touches)."""
        return np.asarray(self.data[index])

    def numpy(self) -> np.ndarray:
        """Read the whole array into memory."""
        return np.asarray(self.data[...])

    def close(self) -> None:
        """Release the file handle behind ``data`` (if any); ``data`` is unreadable afterwards."""
        closer, self.closer = self.closer, None
        if closer is not None:
            closer()

    def __enter__(self) -> Volume:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f", path={self.path!r}" if self.path else ""
        return (
            f"Volume(shape={self.shape}, dtype={self.dtype}, voxel_size={self.voxel_size}, "
            f"offset={self.offset}{where})"
        )
