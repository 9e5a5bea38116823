"""The pool tiled into non-overlapping regions of one size (in data voxels, ``(z, y, x)``).

Regions start at multiples of the region size from the pool's origin; a remainder at the far
edge of an axis smaller than one region is not a candidate (it is reported, never silently
padded). A pool smaller than one region along any axis is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

from volseg.errors import VolsegError

Box = tuple[int, int, int, int, int, int]  # z0, z1, y0, y1, x0, x1


def parse_region(text: str | Sequence[int]) -> tuple[int, int, int]:
    """``"16,128,128"`` (or three integers) as a region size; an error otherwise."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        size = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        size = ()
    if len(size) != 3 or min(size) < 1:
        raise VolsegError(f"--region must be three positive integers z,y,x, got {text!r}.")
    return size  # type: ignore[return-value]


def tile(shape: Sequence[int], region: Sequence[int], *, name: str = "the pool") -> list[Box]:
    """Boxes of size ``region`` tiling ``shape`` (z, y, x) in z-major order."""
    shape = tuple(int(s) for s in shape)[-3:]
    region = tuple(int(r) for r in region)
    if any(r > s for r, s in zip(region, shape, strict=True)):
        raise VolsegError(
            f"{name} of shape {list(shape)} is smaller than one region {list(region)} "
            "(--region z,y,x): give a smaller region or a larger pool."
        )
    starts = [range(0, s - r + 1, r) for s, r in zip(shape, region, strict=True)]
    return [(z, z + region[0], y, y + region[1], x, x + region[2]) for z, y, x in product(*starts)]


def slices(box: Box) -> tuple[slice, slice, slice]:
    return slice(box[0], box[1]), slice(box[2], box[3]), slice(box[4], box[5])


def with_context(box: Box, context: Sequence[int], shape: Sequence[int]) -> tuple[Box, Box]:
    """``box`` grown by ``context`` voxels per side (clipped to ``shape``), and ``box`` in the
    grown box's coordinates."""
    lo = [max(box[2 * a] - int(context[a]), 0) for a in range(3)]
    hi = [min(box[2 * a + 1] + int(context[a]), int(shape[a])) for a in range(3)]
    grown = (lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
    inner = tuple(box[2 * a + e] - lo[a] for a in range(3) for e in (0, 1))
    return grown, inner  # type: ignore[return-value]


def rectangle(record: Mapping[str, int]) -> list[tuple[int, int, int]]:
    """The four (z, y, x) corners of a ranked region's rectangle on its central z-slice."""
    z = (int(record["z0"]) + int(record["z1"]) - 1) // 2
    y0, y1, x0, x1 = (int(record[k]) for k in ("y0", "y1", "x0", "x1"))
    return [(z, y0, x0), (z, y0, x1), (z, y1, x1), (z, y1, x0)]
