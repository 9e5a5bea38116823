"""Small label post-processing steps shared by the decoders and the sweep."""

from __future__ import annotations

import cc3d
import fastremap
import numpy as np

from volseg.errors import VolsegError


def label_dtype(n_voxels: int) -> type:
    """uint32 unless the number of possible ids needs uint64."""
    return np.uint32 if n_voxels < np.iinfo(np.uint32).max else np.uint64


def connected_components(mask: np.ndarray, *, connectivity: int = 26) -> np.ndarray:
    """Label the connected components of a boolean mask (cc3d), ids 1..N in scan order."""
    if mask.ndim == 3 and connectivity not in (6, 18, 26):
        raise VolsegError(f"connectivity must be 6, 18 or 26 in 3D, got {connectivity}.")
    if mask.ndim == 2 and connectivity not in (4, 8):
        raise VolsegError(f"connectivity must be 4 or 8 in 2D, got {connectivity}.")
    return cc3d.connected_components(
        np.ascontiguousarray(mask, dtype=bool),
        connectivity=connectivity,
        out_dtype=label_dtype(mask.size),
    )


NEIGHBOURS = {3: {6: 1, 18: 2, 26: 3}, 2: {4: 1, 8: 2}}


def kernel_connectivity(connectivity: int, ndim: int) -> int:
    """Neighbour count (6/18/26 in 3D, 4/8 in 2D) to scikit-image's connectivity (1..ndim)."""
    table = NEIGHBOURS.get(ndim, {})
    if connectivity not in table:
        raise VolsegError(
            f"connectivity must be one of {sorted(table)} for {ndim}D data, got {connectivity}."
        )
    return table[connectivity]


def remove_small(labels: np.ndarray, *, min_size: int, in_place: bool = False) -> np.ndarray:
    """Set every id with fewer than ``min_size`` voxels to 0 (ids are not renumbered)."""
    if min_size <= 1:
        return labels
    out = labels if in_place else labels.copy()
    ids, counts = fastremap.unique(out, return_counts=True)
    small = ids[(counts < min_size) & (ids != 0)]
    if small.size:
        out = fastremap.mask(out, small, in_place=True)
    return out


def relabel_sequential(labels: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """Renumber ids to 1..N in order of first appearance, 0 kept, smallest fitting uint dtype
    of uint32/uint64."""
    out, _ = fastremap.renumber(labels, preserve_zero=True, in_place=in_place)
    target = label_dtype(int(out.max()) + 1 if out.size else 1)
    return out.astype(target, copy=False)
