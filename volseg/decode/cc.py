"""Connected-components decoder (cc3d)."""

from __future__ import annotations

import numpy as np

from volseg.decode.postprocess import connected_components, relabel_sequential, remove_small
from volseg.errors import VolsegError


def cc(
    binary: np.ndarray,
    *,
    threshold: float = 0.5,
    connectivity: int = 26,
    min_instance_size: int = 0,
) -> np.ndarray:
    """Instances as connected components of a foreground map.

    Args:
        binary: boolean mask, or a foreground probability map (z, y, x) thresholded at
            ``threshold`` (voxels > threshold are foreground).
        threshold: probability threshold in [0, 1] (ignored for boolean input).
        connectivity: 6, 18 or 26 in 3D; 4 or 8 in 2D.
        min_instance_size: components with fewer voxels are removed.

    Returns:
        uint32 labels (uint64 if needed), 0 = background, ids 1..N in scan order.
    """
    binary = np.asarray(binary)
    if binary.ndim not in (2, 3):
        raise VolsegError(f"cc expects a (z, y, x) or (y, x) map, got shape {binary.shape}.")
    if binary.dtype == bool:
        mask = binary
    elif np.issubdtype(binary.dtype, np.floating):
        if not 0.0 <= threshold <= 1.0:
            raise VolsegError(f"threshold must lie in [0, 1], got {threshold}.")
        if not np.isfinite(binary).all():
            raise VolsegError("the foreground map contains NaN or inf values.")
        mask = binary > threshold
    else:
        raise VolsegError(f"cc expects a boolean or float map, got dtype {binary.dtype}.")
    if min_instance_size < 0:
        raise VolsegError(f"min_instance_size must be >= 0, got {min_instance_size}.")
    labels = connected_components(mask, connectivity=connectivity)
    labels = remove_small(labels, min_size=min_instance_size, in_place=True)
    return relabel_sequential(labels, in_place=True)
