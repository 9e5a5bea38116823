"""Affinity offsets: the presets, their parsing, and what a voxel offset means.

An offset ``(dz, dy, dx)`` in voxels names one affinity channel: its value at voxel ``v`` is 1
where ``v`` and ``v + offset`` carry the same (non-zero) label, 0 otherwise. Offsets point
backwards (negative components), the convention of waterz, mutex watershed and the field's
tutorials, so channel ``d`` of the nearest set joins ``v`` with its lower neighbour on axis ``d``.

Offsets may also be given in nanometres (``unit: nm``); they are then turned into voxels of the
grid the network sees, so one setting serves anisotropic and isotropic data alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from volseg.errors import VolsegError

Offset = tuple[int, int, int]

#: The three nearest neighbours, in axis order (z, y, x).
NEAREST: tuple[Offset, ...] = ((-1, 0, 0), (0, -1, 0), (0, 0, -1))

#: Named sets. ``anisotropic-12`` is the short- and long-range set of the field's SNEMI3D
#: tutorials (about 30 x 6 x 6 nm data: short steps in z, long ones in y and x);
#: ``isotropic-12`` steps 1, 3, 9 and 27 voxels along every axis (10 nm FIB-SEM).
PRESETS: dict[str, tuple[Offset, ...]] = {
    "nearest": NEAREST,
    "anisotropic-12": NEAREST
    + ((-2, 0, 0), (0, -3, 0), (0, 0, -3))
    + ((-3, 0, 0), (0, -9, 0), (0, 0, -9))
    + ((-4, 0, 0), (0, -27, 0), (0, 0, -27)),
    "isotropic-12": tuple(
        tuple(-s if a == axis else 0 for a in range(3))  # type: ignore[misc]
        for s in (1, 3, 9, 27)
        for axis in range(3)
    ),
    "isotropic-9": tuple(
        tuple(-s if a == axis else 0 for a in range(3))  # type: ignore[misc]
        for s in (1, 3, 9)
        for axis in range(3)
    ),
}
UNITS = ("voxel", "nm")


def parse_offsets(
    offsets: Any, *, unit: str = "voxel", voxel_size: Sequence[float] | None = None
) -> tuple[Offset, ...]:
    """Offsets in voxels from a preset name or a list of ``[dz, dy, dx]``.

    Args:
        offsets: a name from :data:`PRESETS` or a list of three-number lists.
        unit: ``voxel`` or ``nm``; nanometre offsets are divided by ``voxel_size`` and rounded
            (a component that rounds to 0 stays 0; an offset that rounds to all zeros fails).
        voxel_size: ``(z, y, x)`` nm of the grid, needed for ``unit: nm``.

    Returns:
        The offsets in voxels, distinct and non-zero, in the given order.
    """
    if unit not in UNITS:
        raise VolsegError(f"affinity offset unit must be one of {', '.join(UNITS)}, got {unit!r}.")
    if isinstance(offsets, str):
        if offsets not in PRESETS:
            raise VolsegError(
                f"unknown affinity offset set {offsets!r}; presets: {', '.join(PRESETS)}, or "
                "give a list of [dz, dy, dx]."
            )
        if unit == "nm":
            raise VolsegError(f"offset preset {offsets!r} is in voxels; drop `unit: nm`.")
        return PRESETS[offsets]
    if not isinstance(offsets, Sequence) or not offsets:
        raise VolsegError(f"affinity offsets must be a preset name or [[dz, dy, dx], ...], got "
                          f"{offsets!r}.")  # fmt: skip
    out: list[Offset] = []
    for i, o in enumerate(offsets):
        if isinstance(o, str) or not isinstance(o, Sequence) or len(o) != 3:
            raise VolsegError(f"affinity offset {i} must be [dz, dy, dx], got {o!r}.")
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in o):
            raise VolsegError(f"affinity offset {i} must hold numbers, got {o!r}.")
        if unit == "nm":
            if voxel_size is None:
                raise VolsegError("affinity offsets in nm need the voxel size of the grid.")
            o = [round(float(v) / float(s)) for v, s in zip(o, voxel_size, strict=True)]
        elif any(float(v) != int(v) for v in o):
            raise VolsegError(f"affinity offset {i} must be whole voxels, got {list(o)}.")
        triple = tuple(int(v) for v in o)
        if triple == (0, 0, 0):
            raise VolsegError(f"affinity offset {i} {list(o)} is zero (at this voxel size).")
        if triple in out:
            raise VolsegError(f"affinity offset {list(triple)} is given twice.")
        out.append(triple)  # type: ignore[arg-type]
    return tuple(out)


def nearest_channels(offsets: Sequence[Sequence[int]]) -> list[int]:
    """Indices of the three nearest-neighbour offsets (z, y, x order) among ``offsets``."""
    found = [tuple(o) for o in offsets]
    missing = [list(o) for o in NEAREST if o not in found]
    if missing:
        raise VolsegError(
            f"the affinity offsets {[list(o) for o in found]} lack the nearest-neighbour "
            f"offset(s) {missing}, which fragments and agglomeration need."
        )
    return [found.index(o) for o in NEAREST]


def check_fit(offsets: Sequence[Sequence[int]], shape: Sequence[int], *, what: str) -> None:
    """Refuse offsets as long as or longer than ``shape`` on some axis (no valid voxel pair)."""
    for o in offsets:
        long = [abs(int(v)) >= int(s) for v, s in zip(o, shape[-3:], strict=True)]
        if any(long):
            raise VolsegError(
                f"affinity offset {list(o)} is as long as or longer than the {what} "
                f"{list(shape[-3:])}; no voxel pair in it would be labelled. Use shorter offsets "
                "or a larger patch."
            )


def longest(offsets: Sequence[Sequence[int]]) -> tuple[int, int, int]:
    """The largest absolute step per axis (the context a decoder needs around a block)."""
    arr = np.abs(np.asarray(offsets, dtype=np.int64)).reshape(-1, 3)
    return tuple(int(v) for v in arr.max(axis=0))  # type: ignore[return-value]
