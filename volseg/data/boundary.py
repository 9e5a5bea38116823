"""Instance-boundary target: voxels near a label change, computed with box min/max filters."""

from __future__ import annotations

import fastremap
import numpy as np
from scipy import ndimage

from volseg.errors import VolsegError

EDGE_MODES = ("all", "seg-all", "seg-no-bg")
CONNECTIVITIES = (6, 18, 26)


def instance_boundary(
    labels: np.ndarray,
    *,
    thickness: int = 1,
    edge_mode: str = "seg-all",
    mode_2d: bool = False,
    connectivity: int = 26,
) -> np.ndarray:
    """Boundary map of a label volume.

    The neighbourhood of a voxel ``v`` is every voxel ``u`` reached from ``v`` in at most
    ``thickness`` steps to a ``connectivity``-neighbour. For ``connectivity=26`` that is the box
    ``|u_a - v_a| <= thickness`` on every axis ``a`` (``(2t+1)^3`` voxels); for 6 the face
    neighbours (a diamond ``sum_a |u_a - v_a| <= thickness``); for 18 face and edge neighbours.
    With ``mode_2d`` only the voxels in ``v``'s own z-slice count (6 means the 4 in-plane face
    neighbours, 18 and 26 the 8 in-plane ones). Voxels outside the volume are not neighbours
    (the volume edge is never a boundary).
    ``v`` is a boundary voxel when its neighbourhood holds a voxel ``u`` with
    ``label(u) != label(v)`` and

    - ``"all"``: always (any change, instance/instance or instance/background; both sides,
      background voxels included);
    - ``"seg-all"``: ``v`` is foreground (the same changes, marked on the instance side only);
    - ``"seg-no-bg"``: ``v`` and ``u`` are both foreground (instance/instance contacts only,
      marked on both instances).

    Differences from PyTorch Connectomics ``seg_to_instance_bd`` (v2): there,
    ``thickness=1`` compares face neighbours only and ``seg-all`` then also marks the background
    side, while ``thickness>1`` uses ``grey_erosion(seg, size=thickness)``, a box of *width*
    ``thickness`` anchored off-centre for even sizes that only sees neighbours with a smaller
    id, so ``"all"`` misses one side of a contact. volseg uses one symmetric rule for every
    thickness so the target does not depend on id order or on the parity of ``thickness``.

    Face neighbours (``connectivity=6``) give the thinnest boundary that still separates every
    pair of instances for a 6-connected flood and 18-connected seeds: two interior voxels of
    different instances are never 6- or 18-adjacent. Dense neurons need it: with the box, a
    neurite under 3 voxels across is boundary all through and its body's interior falls apart.

    Args:
        labels: integer label volume ``(z, y, x)``, 0 = background.
        thickness: steps from ``v`` that still count as its neighbourhood (>= 1).
        edge_mode: ``"all"``, ``"seg-all"`` or ``"seg-no-bg"``.
        mode_2d: only look at neighbours in the same z-slice.
        connectivity: the step, 6 (faces), 18 (faces and edges) or 26 (the box).

    Returns:
        Boolean array, True on boundary voxels.
    """
    if isinstance(thickness, bool) or not isinstance(thickness, int | np.integer):
        raise VolsegError(
            f"instance_boundary thickness must be an integer >= 1, got {thickness!r}."
        )
    if thickness < 1:
        raise VolsegError(f"instance_boundary thickness must be >= 1, got {thickness}.")
    if edge_mode not in EDGE_MODES:
        valid = ", ".join(EDGE_MODES)
        raise VolsegError(f"instance_boundary edge_mode must be one of {valid}, got {edge_mode!r}.")
    if isinstance(connectivity, bool) or connectivity not in CONNECTIVITIES:
        raise VolsegError(
            f"instance_boundary connectivity must be 6, 18 or 26, got {connectivity!r}."
        )
    if labels.ndim != 3:
        raise VolsegError(f"instance_boundary needs a (z, y, x) label volume, got {labels.shape}.")
    # scipy's min/max filters lose precision on uint64 ids above 2**53, so filter consecutive
    # ids in the narrowest dtype instead (this also speeds the filters up).
    labels, _ = fastremap.renumber(np.ascontiguousarray(labels), preserve_zero=True, in_place=False)
    window = _neighbourhood(int(thickness), connectivity, mode_2d)
    # Max/min filters (separable for the box): "nearest" edge mode repeats edge voxels, which
    # adds no new label to any neighbourhood, i.e. voxels outside the volume are not neighbours.
    highest = ndimage.maximum_filter(labels, **window, mode="nearest")
    if edge_mode == "seg-no-bg":
        # Smallest *foreground* id around each voxel: background is replaced by an id above all
        # others, which can never be below a foreground id, so it never creates a difference.
        top = int(labels.max()) + 1
        fg_ids = labels.astype(np.promote_types(labels.dtype, np.min_scalar_type(top)))
        fg_ids[labels == 0] = top
        lowest = ndimage.minimum_filter(fg_ids, **window, mode="nearest")
    else:
        lowest = ndimage.minimum_filter(labels, **window, mode="nearest")
    # The neighbourhood includes v itself, so "some neighbour differs from v" <=> max != min.
    changed = highest != lowest
    if edge_mode == "all":
        return changed
    return changed & (labels > 0)


def _neighbourhood(thickness: int, connectivity: int, mode_2d: bool) -> dict[str, object]:
    """``size=`` (the box, separable and fastest) or ``footprint=`` for scipy's rank filters."""
    width = 2 * thickness + 1
    if connectivity == 26 or (mode_2d and connectivity == 18):
        return {"size": (1, width, width) if mode_2d else (width, width, width)}
    rank = 1 if connectivity == 6 else 2
    step = ndimage.generate_binary_structure(2 if mode_2d else 3, rank)
    footprint = ndimage.iterate_structure(step, thickness)
    return {"footprint": footprint[None] if mode_2d else footprint}
