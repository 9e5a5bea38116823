"""Flat neighbour offsets in scikit-image's visiting order, for padded C-order volumes.

The flood kernels work on raveled arrays padded by one voxel on every spatial side, so a
neighbour is ``index + offset`` with no bounds test. The order of the offsets matters on
plateaus (it decides which neighbour gets the smaller insertion age), so it follows
scikit-image's ``watershed``: footprint voxels in C order, stably sorted by their Euclidean
distance from the centre, centre dropped.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi


def padded_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Shape of the padded 3D work array for a 2D ``(y, x)`` or 3D ``(z, y, x)`` input.

    2D inputs become one unpadded z-plane: ``(1, y + 2, x + 2)``.
    """
    if len(shape) == 2:
        return (1, shape[0] + 2, shape[1] + 2)
    return (shape[0] + 2, shape[1] + 2, shape[2] + 2)


def neighbour_offsets(ndim: int, connectivity: int, work_shape: tuple[int, int, int]) -> np.ndarray:
    """Raveled neighbour offsets (int64) in the padded work array, in scikit-image's order.

    Args:
        ndim: spatial dimensions of the input (2 or 3).
        connectivity: 1 (faces) up to ``ndim`` (full neighbourhood), as in scipy/skimage.
        work_shape: shape returned by :func:`padded_shape`.
    """
    footprint = ndi.generate_binary_structure(ndim, connectivity)
    rel = np.argwhere(footprint) - 1  # C order of the footprint, centred
    strides = np.array([work_shape[1] * work_shape[2], work_shape[2], 1], dtype=np.int64)
    raveled = rel @ strides[-ndim:]
    dist = np.sqrt((rel.astype(np.float64) ** 2).sum(axis=1))
    order = np.argsort(dist, kind="stable")
    return np.ascontiguousarray(raveled[order][1:], dtype=np.int64)


def row_offsets(ndim: int, connectivity: int, work_shape: tuple[int, int, int]) -> np.ndarray:
    """Raveled offsets of the rows (x runs) the neighbourhood touches, centre row included.

    These are the cache lines worth prefetching before a voxel's neighbours are visited.
    """
    footprint = ndi.generate_binary_structure(ndim, connectivity)
    rel = np.argwhere(footprint) - 1
    strides = np.array([work_shape[1] * work_shape[2], work_shape[2]], dtype=np.int64)
    outer = np.unique(rel[:, :-1] @ strides[-(ndim - 1) :])
    return np.ascontiguousarray(outer, dtype=np.int64)
