"""Stitch block-local labels into one global labelling.

Used for connected-components decoders (``cc``, ``contour_distance`` in cc mode) and for the
seeds of the seeded decoders (:mod:`volseg.infer.seeded_decode`). Each block labels the
components of its write region grown by one voxel (the seam, see
:meth:`volseg.geometry.BlockGrid.overlap`); components of two neighbouring blocks that
share a voxel there are merged. A component of a block's region is part of exactly one
component of the volume, and two components that touch across the seam share a seam voxel
in both blocks' labels, so this is exact. (Segments of a seeded flood are never matched
this way: a majority vote on seams chained whole neurons together, issue 13.)

Block-local ids become provisional global ids ``base[block] + local``; the merges are
connected components of a graph over those ids (``scipy.sparse.csgraph``, so no hand-written
union-find), and the components are renumbered 1..N in order of their smallest provisional id.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from volseg.decode.postprocess import label_dtype
from volseg.errors import VolsegError


def overlap_counts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Voxel counts of every (a id, b id) pair with both ids non-zero: ``(a_ids, b_ids, n)``."""
    if a.shape != b.shape:
        raise VolsegError(f"overlap labels differ in shape: {a.shape} and {b.shape}.")
    a = np.asarray(a, dtype=np.uint64).ravel()
    b = np.asarray(b, dtype=np.uint64).ravel()
    both = (a > 0) & (b > 0)
    if (a[both] >= 2**32).any() or (b[both] >= 2**32).any():
        raise VolsegError("block-local ids must be below 2**32 to be matched.")
    keys, counts = np.unique((a[both] << np.uint64(32)) | b[both], return_counts=True)
    return keys >> np.uint64(32), keys & np.uint64(2**32 - 1), counts


def match_segments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairs ``(a id, b id)`` to merge: every pair of components sharing a voxel.

    Args:
        a: block A's labels on the overlap (any shape; 0 = background).
        b: block B's labels on the same voxels.

    Returns:
        int64 array of shape (k, 2), sorted.
    """
    a_ids, b_ids, _ = overlap_counts(a, b)
    return np.stack([a_ids, b_ids], axis=1).astype(np.int64).reshape(-1, 2)


def merge_components(pairs: np.ndarray, n_ids: int) -> np.ndarray:
    """Component of every provisional id ``0..n_ids`` given the pairs to merge.

    Id 0 (background) is component 0; the others are numbered 1.. in order of their smallest
    member. scipy indexes nodes with int32, which bounds ``n_ids`` at about 2**31 segments.

    Raises:
        VolsegError: a pair names id 0 or an id above ``n_ids``.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 1 or pairs.max() > n_ids):
        raise VolsegError(
            f"merge pairs must name ids 1..{n_ids}, got {pairs.min()}..{pairs.max()}."
        )
    if n_ids + 1 >= 2**31:
        raise VolsegError(f"{n_ids} provisional segments are too many to stitch (limit 2**31).")
    n = n_ids + 1
    weights = np.ones(len(pairs), dtype=np.int8)
    graph = coo_matrix((weights, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    _, components = connected_components(graph, directed=False)
    return components.astype(np.int64)  # node 0 is visited first, so it is component 0


def final_ids(
    components: np.ndarray, sizes: np.ndarray, *, min_size: int = 0
) -> tuple[np.ndarray, int]:
    """Look-up table provisional id -> final id 1..N (0 for background and removed segments).

    Args:
        components: component of each provisional id (from :func:`merge_components`).
        sizes: voxels of each provisional id in its block's write region.
        min_size: components with fewer voxels in total are removed (set to 0).

    Returns:
        ``(lut, n)``: the table (uint32, or uint64 when N needs it) and the number of ids N.
        Components without a voxel anywhere (seen only in halos) get no id.
    """
    components = np.asarray(components, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    if components.shape != sizes.shape:
        raise VolsegError(f"components {components.shape} and sizes {sizes.shape} differ.")
    total = np.zeros(int(components.max(initial=0)) + 1, dtype=np.int64)
    np.add.at(total, components, sizes)
    keep = total >= max(1, int(min_size))
    keep[0] = False
    new = np.cumsum(keep, dtype=np.int64) * keep
    n = int(new.max(initial=0))
    return new[components].astype(label_dtype(n + 1)), n


def output_dtype(shape: Sequence[int]) -> np.dtype:
    """Label dtype of a stitched volume: uint32, or uint64 when it has 2**32 - 1 voxels or
    more (then the ids could overflow uint32; the volume is written before N is known)."""
    return np.dtype(label_dtype(math.prod(int(s) for s in shape)))
