"""Voxel size and offset from file metadata: units, attribute names, precedence.

Precedence (highest first): explicit argument > OME-Zarr metadata > array attributes
(``resolution_nm_zyx``, ``voxel_size_nm``, ``voxel_size``, ``resolution`` in nm,
``element_size_um`` in micrometres) > the default ``(1, 1, 1)``, recorded as
``attrs["voxel_size_source"] = "default"`` so callers can warn.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.volume import Triple, as_triple

UNIT_TO_NM = {
    "angstrom": 0.1,
    "å": 0.1,
    "picometer": 1e-3,
    "nanometer": 1.0,
    "nm": 1.0,
    "micrometer": 1e3,
    "micron": 1e3,
    "um": 1e3,
    "µm": 1e3,
    "μm": 1e3,
    "\\u00b5m": 1e3,
    "millimeter": 1e6,
    "mm": 1e6,
    "centimeter": 1e7,
    "meter": 1e9,
}
VOXEL_SIZE_KEYS = (
    ("resolution_nm_zyx", 1.0),
    ("voxel_size_nm", 1.0),
    ("voxel_size", 1.0),
    ("resolution", 1.0),
    ("element_size_um", 1e3),
)
OFFSET_KEYS = ("offset_nm_zyx", "offset_nm", "offset")
# Keys volseg itself manages; not copied from a read volume into a new output.
RESERVED_ATTRS = frozenset(
    {"voxel_size_source", "complete", "kind", "format"}
    | {k for k, _ in VOXEL_SIZE_KEYS}
    | set(OFFSET_KEYS)
)


def unit_to_nm(unit: str | None, *, where: str) -> float:
    """Nanometres per ``unit`` (OME-Zarr / ImageJ spelling).

    Raises:
        VolsegError: the unit is not a length unit volseg knows.
    """
    factor = UNIT_TO_NM.get(str(unit).strip().lower())
    if factor is None:
        raise VolsegError(
            f"unknown length unit {unit!r} in {where}; expected one of nanometer, micrometer, "
            "angstrom, millimeter."
        )
    return factor


def _triple(value: Any, *, ndim: int, name: str, where: str) -> Triple:
    values = np.atleast_1d(np.asarray(value)).ravel()
    if values.size == ndim and ndim > 3:
        values = values[-3:]
    try:
        out = as_triple(values.tolist() if values.size != 1 else values.item(), name=name)
    except VolsegError:
        raise VolsegError(
            f"attribute {name!r} in {where} must be three numbers (z, y, x), got {value!r}."
        ) from None
    if not all(np.isfinite(out)):
        raise VolsegError(f"attribute {name!r} in {where} must be finite, got {value!r}.")
    return out


def voxel_size_from_attrs(
    attrs: Mapping[str, Any], *, ndim: int, where: str
) -> tuple[Triple, str] | None:
    """``(voxel_size_nm, "attrs:<name>")`` from the first known attribute, or ``None``.

    Raises:
        VolsegError: the attribute exists but is not three positive numbers.
    """
    for name, factor in VOXEL_SIZE_KEYS:
        if name in attrs:
            size = _triple(attrs[name], ndim=ndim, name=name, where=where)
            if any(v <= 0 for v in size):
                raise VolsegError(f"attribute {name!r} in {where} must be positive, got {size}.")
            return tuple(v * factor for v in size), f"attrs:{name}"  # type: ignore[return-value]
    return None


def offset_from_attrs(attrs: Mapping[str, Any], *, ndim: int, where: str) -> Triple | None:
    """Offset in nm from ``offset_nm_zyx`` / ``offset_nm`` / ``offset``, or ``None``."""
    for name in OFFSET_KEYS:
        if name in attrs:
            return _triple(attrs[name], ndim=ndim, name=name, where=where)
    return None


def plain(value: Any) -> Any:
    """Convert numpy / bytes attribute values into JSON-friendly Python values."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def volume_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes a ``Volume`` carries: plain values, ``volseg`` ones merged in."""
    out = {k: plain(v) for k, v in attrs.items() if k not in ("ome", "multiscales", "volseg")}
    extra = attrs.get("volseg")
    if isinstance(extra, str | bytes):  # h5 stores them as one JSON string
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = None
    if isinstance(extra, Mapping):
        out.update(plain(extra))
    return out


def resolve(
    *,
    explicit_size: Any,
    explicit_offset: Any,
    found_size: tuple[Triple, str] | None,
    found_offset: Triple | None,
) -> tuple[Triple, Triple, str]:
    """Apply the precedence rules: ``(voxel_size, offset, voxel_size_source)``."""
    if explicit_size is not None:
        size, source = as_triple(explicit_size, name="voxel_size"), "argument"
    elif found_size is not None:
        size, source = found_size
    else:
        size, source = (1.0, 1.0, 1.0), "default"
    if explicit_offset is not None:
        offset = as_triple(explicit_offset, name="offset")
    else:
        offset = found_offset if found_offset is not None else (0.0, 0.0, 0.0)
    return size, offset, source
