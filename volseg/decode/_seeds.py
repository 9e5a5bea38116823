"""Seeds for the watershed: given markers, threshold components or h-minima, small ones dropped."""

from __future__ import annotations

import cc3d
import fastremap
import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import h_minima

from volseg.errors import VolsegError

# cc3d names neighbourhoods by neighbour count; skimage/scipy by the number of orthogonal steps.
_CC3D_CONNECTIVITY = {(2, 1): 4, (2, 2): 8, (3, 1): 6, (3, 2): 18, (3, 3): 26}


def cc3d_connectivity(ndim: int, connectivity: int) -> int:
    """cc3d's connectivity number (4/8 in 2D, 6/18/26 in 3D) for a scipy-style one."""
    return _CC3D_CONNECTIVITY[(ndim, connectivity)]


def threshold_seeds(
    height: np.ndarray, threshold: float, mask: np.ndarray | None, *, connectivity: int
) -> np.ndarray:
    """Connected components of ``height < threshold`` (inside ``mask``)."""
    low = height < threshold
    if mask is not None:
        low &= mask
    return cc3d.connected_components(low, connectivity=cc3d_connectivity(height.ndim, connectivity))


def hminima_seeds(
    height: np.ndarray, h: float, mask: np.ndarray | None, *, connectivity: int
) -> np.ndarray:
    """Connected components of the regional minima of depth >= ``h`` (inside ``mask``)."""
    footprint = ndi.generate_binary_structure(height.ndim, connectivity)
    minima = h_minima(height, h, footprint=footprint).astype(bool)
    if mask is not None:
        minima &= mask
    return cc3d.connected_components(
        minima, connectivity=cc3d_connectivity(height.ndim, connectivity)
    )


def drop_small_seeds(markers: np.ndarray, min_size: int, mask: np.ndarray | None) -> np.ndarray:
    """Set to 0 every marker id with fewer than ``min_size`` voxels inside ``mask``."""
    inside = markers if mask is None else np.where(mask, markers, 0)
    ids, counts = fastremap.unique(inside, return_counts=True)
    small = ids[(counts < min_size) & (ids != 0)]
    if small.size == 0:
        return inside
    return fastremap.mask(inside, small.tolist(), in_place=inside is not markers)


def check_markers(markers: object, shape: tuple[int, ...]) -> np.ndarray:
    """Validate user markers: same shape, integer dtype, no negative ids."""
    arr = np.asarray(markers)
    if arr.shape != shape:
        raise VolsegError(f"markers has shape {arr.shape}, expected the height's shape {shape}.")
    if arr.dtype == bool or arr.dtype.kind not in "iu":
        raise VolsegError(
            f"markers must hold integer labels (0 = unlabelled), got dtype {arr.dtype}; "
            "label a boolean seed mask into connected components first."
        )
    if arr.dtype.kind == "i" and arr.size and arr.min() < 0:
        raise VolsegError(f"markers must be >= 0, found {int(arr.min())}.")
    return arr
