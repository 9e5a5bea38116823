"""Crop-consistent resampling between the data grid and the network grid (``train_resolution``).

Prediction runs block by block, so resampling must give the same voxels whether a volume is
resampled whole or crop by crop. Both directions are local operations written out with index
arithmetic (scipy's ``zoom`` fits its grid to each crop's shape, so crops would disagree):

- data -> network grid (image): block mean when every axis shrinks by a whole factor ``f``
  (as ``volseg.data.resample.resample_image`` does for training patches; the network grid has
  ``ceil(n / f)`` voxels, the last block padded by edge values), otherwise linear interpolation
  at voxel centres;
- network -> data grid (maps): linear interpolation at voxel centres, edges clamped.

Voxel ``j`` of a grid with voxel size ``b`` has its centre at ``(j + 0.5) * b`` nm from the
volume's corner on every grid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from volseg.errors import VolsegError
from volseg.geometry import Slices, Triple, triple

Region = Slices


def _region(values: list[slice]) -> Region:
    z, y, x = values
    return (z, y, x)


def _linear_support(
    start: int, stop: int, src: float, dst: float, n_src: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights for target voxels ``[start, stop)`` (voxel sizes dst, src)."""
    j = np.arange(start, stop, dtype=np.float64)
    u = np.clip((j + 0.5) * (dst / src) - 0.5, 0.0, n_src - 1)
    i0 = np.floor(u).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_src - 1)
    return i0, i1, (u - i0).astype(np.float32)


def _linear_axis(
    a: np.ndarray, axis: int, i0: np.ndarray, i1: np.ndarray, w: np.ndarray
) -> np.ndarray:
    shape = [1] * a.ndim
    shape[axis] = w.size
    w = w.reshape(shape)
    lo, hi = np.take(a, i0, axis=axis), np.take(a, i1, axis=axis)
    return lo + (hi - lo) * w


@dataclass(frozen=True)
class Rescale:
    """The data grid and the network grid of one volume.

    Attributes:
        data_shape: spatial shape on the data grid.
        data_voxel: data voxel size (nm).
        net_voxel: network voxel size (nm), ``data.train_resolution``.
    """

    data_shape: Triple
    data_voxel: tuple[float, float, float]
    net_voxel: tuple[float, float, float]

    @property
    def factors(self) -> tuple[float, ...]:
        """Network voxels per data voxel along each axis (> 1 means coarser network grid)."""
        return tuple(n / d for n, d in zip(self.net_voxel, self.data_voxel, strict=True))

    @property
    def identity(self) -> bool:
        return all(math.isclose(f, 1.0, rel_tol=1e-9) for f in self.factors)

    @property
    def area(self) -> bool:
        """Whole-factor shrinking on every axis: the image is block-averaged."""
        return (
            all(f >= 1 and math.isclose(f, round(f), rel_tol=1e-9) for f in self.factors)
            and not self.identity
        )

    @property
    def net_shape(self) -> Triple:
        if self.identity:
            return self.data_shape
        if self.area:
            return triple(
                math.ceil(n / round(f)) for n, f in zip(self.data_shape, self.factors, strict=True)
            )
        return triple(
            max(1, round(n / f)) for n, f in zip(self.data_shape, self.factors, strict=True)
        )

    def image_support(self, net_region: Region) -> Region:
        """Data-grid voxels needed to compute the image on ``net_region`` of the network grid."""
        if self.identity:
            return net_region
        out = []
        for a, sl in enumerate(net_region):
            n = self.data_shape[a]
            if self.area:
                f = round(self.factors[a])
                out.append(slice(min(sl.start * f, n - 1), min(sl.stop * f, n)))
            else:
                i0, i1, _ = _linear_support(
                    sl.start, sl.stop, self.data_voxel[a], self.net_voxel[a], n
                )
                out.append(slice(int(i0.min()), int(i1.max()) + 1))
        return _region(out)

    def image_to_net(self, crop: np.ndarray, crop_region: Region, net_region: Region) -> np.ndarray:
        """Image ``(c, ...)`` on data voxels ``crop_region`` -> ``(c, ...)`` on ``net_region``."""
        crop = np.asarray(crop, dtype=np.float32)
        if self.identity:
            return crop
        if self.area:
            pads = [(0, 0)]
            for a, sl in enumerate(net_region):
                f = round(self.factors[a])
                pads.append((0, (sl.stop - sl.start) * f - crop.shape[a + 1]))
            if any(p[1] for p in pads):
                crop = np.pad(crop, pads, mode="edge")
            split = [crop.shape[0]]
            for a, sl in enumerate(net_region):
                split += [sl.stop - sl.start, round(self.factors[a])]
            return crop.reshape(split).mean(axis=(2, 4, 6), dtype=np.float32)
        out = crop
        for a, sl in enumerate(net_region):
            i0, i1, w = _linear_support(
                sl.start, sl.stop, self.data_voxel[a], self.net_voxel[a], self.data_shape[a]
            )
            start = crop_region[a].start
            out = _linear_axis(out, a + 1, i0 - start, i1 - start, w)
        return out

    def maps_support(self, data_region: Region) -> Region:
        """Network-grid voxels needed to interpolate maps on ``data_region`` of the data grid."""
        if self.identity:
            return data_region
        out = []
        for a, sl in enumerate(data_region):
            i0, i1, _ = _linear_support(
                sl.start, sl.stop, self.net_voxel[a], self.data_voxel[a], self.net_shape[a]
            )
            out.append(slice(int(i0.min()), int(i1.max()) + 1))
        return _region(out)

    def maps_to_data(
        self, crop: np.ndarray, crop_region: Region, data_region: Region
    ) -> np.ndarray:
        """Maps ``(c, ...)`` on network voxels ``crop_region`` -> ``(c, ...)`` on
        ``data_region`` of the data grid."""
        if self.identity:
            return crop
        out = np.asarray(crop, dtype=np.float32)
        for a, sl in enumerate(data_region):
            i0, i1, w = _linear_support(
                sl.start, sl.stop, self.net_voxel[a], self.data_voxel[a], self.net_shape[a]
            )
            start = crop_region[a].start
            out = _linear_axis(out, a + 1, i0 - start, i1 - start, w)
        return out


def make_rescale(
    data_shape: Sequence[int],
    data_voxel: Sequence[float],
    net_voxel: Sequence[float] | None,
) -> Rescale:
    """A :class:`Rescale`; ``net_voxel=None`` means the network works on the data grid."""
    shape = tuple(int(n) for n in data_shape)
    data = tuple(float(v) for v in data_voxel)
    net = data if net_voxel is None else tuple(float(v) for v in net_voxel)
    if len(shape) != 3 or len(data) != 3 or len(net) != 3 or min(net) <= 0 or min(data) <= 0:
        raise VolsegError(
            f"resampling needs 3D shapes and positive voxel sizes, got shape {shape}, data "
            f"voxel size {data} and data.train_resolution {net}."
        )
    return Rescale(triple(shape), _floats(data), _floats(net))


def _floats(values: tuple[float, ...]) -> tuple[float, float, float]:
    z, y, x = values
    return (z, y, x)


def net_reader(
    rescale: Rescale, read_data: Callable[[Region], np.ndarray]
) -> Callable[[Region], np.ndarray]:
    """A reader of network-grid image crops built on a reader of (normalised) data crops."""

    def read(net_region: Region) -> np.ndarray:
        support = rescale.image_support(net_region)
        return rescale.image_to_net(read_data(support), support, net_region)

    return read
