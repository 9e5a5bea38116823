"""OME-Zarr (NGFF) multiscale metadata: read 0.4 and 0.5, write 0.5.

0.4 keeps ``multiscales`` at the top of the group attributes (zarr v2); 0.5 nests everything
under ``attrs["ome"]`` (zarr v3). Voxel size comes from the ``scale`` transformation of a level
(times the multiscale-wide one), offset from ``translation``, both converted to nanometres.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from volseg.errors import VolsegError
from volseg.io.metadata import unit_to_nm
from volseg.io.volume import Triple

OME_VERSION = "0.5"
SPATIAL = ("z", "y", "x")


@dataclass(frozen=True)
class OmeLevel:
    """One pyramid level of an OME-Zarr multiscale group."""

    path: str
    voxel_size: Triple
    offset: Triple
    source: str
    n_levels: int


def multiscales_of(attrs: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The ``multiscales`` list of an OME-Zarr 0.5 or 0.4 group, or ``None``."""
    ome = attrs.get("ome")
    if isinstance(ome, Mapping) and ome.get("multiscales"):
        return list(ome["multiscales"])
    if attrs.get("multiscales"):
        return list(attrs["multiscales"])
    return None


def _transforms(items: Any, ndim: int, where: str) -> tuple[list[float], list[float]]:
    scale, translation = [1.0] * ndim, [0.0] * ndim
    for item in items or []:
        kind = item.get("type")
        if kind == "scale":
            scale = [float(v) for v in item["scale"]]
        elif kind == "translation":
            translation = [float(v) for v in item["translation"]]
        elif kind != "identity":
            raise VolsegError(f"unsupported coordinateTransformation {kind!r} in {where}.")
    if len(scale) != ndim or len(translation) != ndim:
        raise VolsegError(f"coordinateTransformations in {where} do not match its {ndim} axes.")
    return scale, translation


def _spatial_axes(axes: Sequence[Any], where: str) -> tuple[list[int], list[str | None]]:
    names = [a.get("name") if isinstance(a, Mapping) else str(a) for a in axes]
    units = [a.get("unit") if isinstance(a, Mapping) else None for a in axes]
    if all(n in names for n in SPATIAL):
        index = [names.index(n) for n in SPATIAL]
    else:
        index = [
            i for i, a in enumerate(axes) if isinstance(a, Mapping) and a.get("type") == "space"
        ]
        if len(index) != 3:
            raise VolsegError(f"{where} has axes {names}; volseg needs three spatial axes z, y, x.")
    return index, [units[i] for i in index]


def read_level(attrs: Mapping[str, Any], *, level: int, where: str) -> OmeLevel | None:
    """Voxel size / offset / array path of ``level`` of the first multiscale, or ``None``.

    Raises:
        VolsegError: the level does not exist or the metadata is malformed.
    """
    multiscales = multiscales_of(attrs)
    if not multiscales:
        return None
    ms = multiscales[0]
    datasets = ms.get("datasets") or []
    if not 0 <= level < len(datasets):
        raise VolsegError(
            f"level {level} does not exist in {where}; it has levels 0..{len(datasets) - 1}."
        )
    axes = ms.get("axes") or list(SPATIAL)  # OME-Zarr < 0.3 had no axes: z, y, x
    ndim = len(axes)
    try:
        ds_scale, ds_shift = _transforms(ds_transforms(datasets[level]), ndim, where)
        ms_scale, ms_shift = _transforms(ms.get("coordinateTransformations"), ndim, where)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, VolsegError):
            raise
        raise VolsegError(f"malformed coordinateTransformations in {where} ({exc}).") from None
    index, units = _spatial_axes(axes, where)
    if all(u is None for u in units):
        factors, source = [1.0, 1.0, 1.0], "ome (no unit; assumed nanometer)"
    else:
        factors = [unit_to_nm(u, where=where) for u in units]
        source = "ome"
    size = tuple(ds_scale[i] * ms_scale[i] * f for i, f in zip(index, factors, strict=True))
    shift = tuple(
        (ds_shift[i] * ms_scale[i] + ms_shift[i]) * f for i, f in zip(index, factors, strict=True)
    )
    if any(v <= 0 for v in size):
        raise VolsegError(f"OME scale in {where} must be positive, got {size} nm.")
    return OmeLevel(str(datasets[level]["path"]), size, shift, source, len(datasets))  # type: ignore[arg-type]


def ds_transforms(dataset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The coordinate transformations of one multiscale dataset entry."""
    return list(dataset.get("coordinateTransformations") or [])


def level_of_array(attrs: Mapping[str, Any], name: str, *, where: str) -> OmeLevel | None:
    """The level whose dataset path is ``name`` in a multiscale group, or ``None``."""
    multiscales = multiscales_of(attrs)
    if not multiscales:
        return None
    for i, ds in enumerate(multiscales[0].get("datasets") or []):
        if str(ds.get("path")) == name:
            return read_level(attrs, level=i, where=where)
    return None


def multiscale_attrs(
    *,
    name: str,
    channels: bool,
    scales: Sequence[Triple],
    offsets: Sequence[Triple],
    method: str,
) -> dict[str, Any]:
    """The ``ome`` attribute of an OME-Zarr 0.5 multiscale group (levels ``s0``, ``s1``, ...)."""
    axes = [{"name": n, "type": "space", "unit": "nanometer"} for n in SPATIAL]
    if channels:
        axes.insert(0, {"name": "c", "type": "channel"})
    lead = [1.0] if channels else []
    lead0 = [0.0] if channels else []
    datasets = [
        {
            "path": f"s{i}",
            "coordinateTransformations": [
                {"type": "scale", "scale": lead + [float(v) for v in scale]},
                {"type": "translation", "translation": lead0 + [float(v) for v in offset]},
            ],
        }
        for i, (scale, offset) in enumerate(zip(scales, offsets, strict=True))
    ]
    multiscale = {"name": name, "axes": axes, "datasets": datasets, "type": method}
    return {"version": OME_VERSION, "multiscales": [multiscale]}


def image_label_attrs() -> dict[str, Any]:
    """The ``image-label`` entry of an OME-Zarr 0.5 label image (source two levels up).

    ``colors`` names only the background: label 0 fully transparent. Instance ids are
    arbitrary and may number millions, so per-id colours are left to the viewer (the spec
    makes the list optional; napari and other viewers colour ids with their own table)."""
    return {"source": {"image": "../../"}, "colors": [{"label-value": 0, "rgba": [0, 0, 0, 0]}]}


#: Display colour (RRGGBB) of a map channel by its name; other names take PALETTE in turn.
CHANNEL_COLORS = {
    "binary": "FF00FF",
    "foreground": "FF00FF",
    "boundary": "FFFF00",
    "instance_boundary": "FFFF00",
    "contour": "FFFF00",
    "distance": "00FFFF",
    "edt": "00FFFF",
    "instance_edt": "00FFFF",
    "semantic_edt": "00FFFF",
}
PALETTE = ("FF00FF", "FFFF00", "00FFFF", "FF8000", "00FF00", "0080FF", "FF0000", "FFFFFF")


def omero_attrs(names: Sequence[str], windows: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """The ``omero`` entry of a maps group: one channel per map with its name as ``label``, a
    colour, and the display ``window`` in stored values (so viewers label and scale the maps).
    ``omero`` is transitional in OME-Zarr 0.5 but is what viewers read for channel names."""
    channels = [
        {
            "label": str(name),
            "color": CHANNEL_COLORS.get(str(name), PALETTE[i % len(PALETTE)]),
            "window": {"min": float(lo), "max": float(hi), "start": float(lo), "end": float(hi)},
            "active": True,
        }
        for i, (name, (lo, hi)) in enumerate(zip(names, windows, strict=True))
    ]
    return {"channels": channels, "rdefs": {"model": "color"}}


def labels_list_attrs(names: Sequence[str]) -> dict[str, Any]:
    """The ``ome`` attribute of the ``labels`` group listing its label images."""
    return {"version": OME_VERSION, "labels": list(names)}
