"""Turn discovered volumes into napari layer-data tuples ``(data, kwargs, layer_type)``.

Layers, bottom to top: ``raw`` (image), ``pred/binary``, ``pred/boundary``, ``pred/edt``
(images, hidden), ``mask`` (labels, hidden), ``gt`` (labels; hidden when a ``seg`` is shown),
``seg`` (labels) and ``errors`` (labels, see :mod:`volseg.napari.errors_layer`). Every
layer has ``scale`` = voxel size and ``translate`` = offset (axes z, y, x in nm), and records
its role, source and (for maps) the decoder settings found beside it under
``metadata["volseg"]``. Nothing here imports Qt; :func:`add_layers` needs only
``napari.layers``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.maps import ATTR, channel_names, channel_range, offsets_of
from volseg.napari.discover import Found, Item
from volseg.napari.errors_layer import COLORS, DEFAULT_MIN_OVERLAP, error_labels

LayerData = tuple[Any, dict[str, Any], str]
PRED_ROLES = ("pred/binary", "pred/boundary", "pred/edt")
# Stored channel names (``volseg_maps`` attribute) -> layer role.
CHANNEL_ROLES = {
    "binary": "pred/binary",
    "foreground": "pred/binary",
    "fg": "pred/binary",
    "boundary": "pred/boundary",
    "contour": "pred/boundary",
    "instance_boundary": "pred/boundary",
    "distance": "pred/edt",
    "edt": "pred/edt",
    "instance_edt": "pred/edt",
}
AXES = ("z", "y", "x")
UNITS = ("nm", "nm", "nm")  # layer units and axis labels need napari >= 0.6
COLORMAPS = {"pred/binary": "magma", "pred/boundary": "inferno", "pred/edt": "viridis"}


def map_roles(names: Sequence[str] | None, n_channels: int) -> list[str]:
    """Layer role per map channel.

    A known stored name picks the role; affinity channels are ``pred/affinity_<k>`` (k counts
    the affinity channels); an unknown or missing name falls back to the design's channel order
    (0 foreground, 1 boundary, 2 distance) when that role is free, else ``pred/<name>``.
    """
    names = [names[c] if names and c < len(names) else None for c in range(n_channels)]
    named = [CHANNEL_ROLES.get(str(n).lower()) if n is not None else None for n in names]
    roles: list[str] = []
    n_affinity = 0
    for c, (name, role) in enumerate(zip(names, named, strict=True)):
        own = f"pred/{name if name is not None else f'c{c}'}"
        if name == "affinity":
            role, n_affinity = f"pred/affinity_{n_affinity}", n_affinity + 1
        elif role is None:
            by_order = PRED_ROLES[c] if c < len(PRED_ROLES) else None
            free = by_order is not None and by_order not in named and by_order not in roles
            role = by_order if free else own
        elif role in roles:
            role = own
        roles.append(role)
    return roles


def map_channel(level: Any, c: int, attrs: dict[str, Any], *, source: str) -> Any:
    """Channel ``c`` of stored maps as float32 (uint8 maps dequantised); lazy (dask) unless
    the maps are already in memory."""
    import dask.array as da

    if isinstance(level, np.ndarray | da.Array):
        channel = level[c]
    else:  # zarr: wrap so that napari reads one channel's chunks, not the whole array
        channel = da.from_array(level, chunks=level.chunks)[c]
    if channel.dtype == np.float32:
        return channel
    if np.issubdtype(channel.dtype, np.floating):
        return channel.astype(np.float32)
    info = attrs.get(ATTR) or {}
    if info.get("dtype") != "uint8" or channel.dtype != np.uint8:
        raise VolsegError(
            f"{source} holds {channel.dtype} maps without a `{ATTR}` quantisation record; "
            "expected float maps or uint8 maps written by volseg."
        )
    return channel.astype(np.float32) * np.float32(info["scale"][c]) + np.float32(info["offset"][c])


def _data(levels: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
    if len(levels) == 1:
        return levels[0], {}
    return list(levels), {"multiscale": True}


def _meta(item: Item, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "scale": tuple(item.voxel_size),
        "translate": tuple(item.offset),
        "axis_labels": AXES,
        "units": UNITS,
        "metadata": {"volseg": {"role": role, "source": item.source, **extra}},
    }


def map_layers(item: Item, *, thresholds: dict[str, Any] | None = None) -> list[LayerData]:
    """One hidden image layer per map channel."""
    n_channels = item.shape[0]
    names = channel_names(item.attrs)
    offsets = offsets_of(item.attrs) or []
    out = []
    for c, role in enumerate(map_roles(names, n_channels)):
        channel = names[c] if names and c < len(names) else role.split("/", 1)[1]
        levels = [map_channel(lv, c, item.attrs, source=item.source) for lv in item.levels]
        data, extra = _data(levels)
        lo, hi = (-1.0, 1.0) if role == "pred/edt" else channel_range(channel)
        meta = _meta(item, role, channel=channel, index=c, thresholds=thresholds)
        if role.startswith("pred/affinity_") and int(role.rsplit("_", 1)[1]) < len(offsets):
            meta["metadata"]["volseg"]["offset"] = offsets[int(role.rsplit("_", 1)[1])]
        meta.update(
            name=role,
            visible=False,
            colormap=COLORMAPS.get(role, "gray"),
            contrast_limits=(lo, hi),
            blending="additive",
            **extra,
        )
        out.append((data, meta, "image"))
    return out


def item_layer(item: Item, *, visible: bool = True) -> LayerData:
    """Layer data of a ``raw``, ``seg``, ``gt`` or ``mask`` item."""
    data, extra = _data(item.levels)
    meta = _meta(item, item.role)
    meta.update(name=item.role, visible=visible, **extra)
    if item.role == "raw":
        meta.update(colormap="gray")
        if np.dtype(item.levels[0].dtype) == np.uint8:
            meta.update(contrast_limits=(0, 255))
        return data, meta, "image"
    return data, meta, "labels"


def errors_layer(
    seg: Item, gt: Item, *, min_overlap: int = DEFAULT_MIN_OVERLAP, errors: Any = None
) -> LayerData:
    """The ``errors`` labels layer of ``seg`` against ``gt`` (computed unless given)."""
    if seg.shape != gt.shape:
        raise VolsegError(
            f"segmentation {seg.source} {seg.shape} and ground truth {gt.source} {gt.shape} "
            "differ in shape; cannot mark errors."
        )
    if errors is None:
        errors = error_labels(
            np.asarray(seg.levels[0][...]), np.asarray(gt.levels[0][...]), min_overlap=min_overlap
        )
    meta = _meta(seg, "errors", ground_truth=gt.source, min_overlap=min_overlap)
    meta.update(name="errors", visible=True, colormap=dict(COLORS), opacity=0.8)
    return errors, meta, "labels"


def _first(items: Iterable[Item], role: str) -> Item | None:
    return next((i for i in items if i.role == role), None)


def build_layers(
    found: Found, *, errors: bool = True, min_overlap: int = DEFAULT_MIN_OVERLAP
) -> list[LayerData]:
    """Layer data for everything found, in display order (bottom first).

    ``errors`` adds the errors layer when both a ``seg`` and a ``gt`` are present.

    Raises:
        VolsegError: unreadable maps, or seg and gt of different shapes.
    """
    out: list[LayerData] = []
    has_seg = _first(found.items, "seg") is not None
    for group in ("raw", "maps", "mask", "gt", "seg"):
        for item in (i for i in found.items if i.role == group):
            if group == "maps":
                out.extend(map_layers(item, thresholds=found.thresholds))
                continue
            visible = group != "mask" and not (group == "gt" and has_seg)
            out.append(item_layer(item, visible=visible))
    seg, gt = _first(found.items, "seg"), _first(found.items, "gt")
    if errors and seg is not None and gt is not None:
        out.append(errors_layer(seg, gt, min_overlap=min_overlap))
    _dedupe_names(out)
    return out


def _dedupe_names(layers: list[LayerData]) -> None:
    """Second and later layers of one role get their source's name appended."""
    seen: set[str] = set()
    for _, meta, _ in layers:
        name = meta["name"]
        if name in seen:
            source = meta["metadata"]["volseg"]["source"]
            meta["name"] = f"{name} ({source.rstrip('/').rsplit('/', 1)[-1]})"
        seen.add(name)


def role_of(layer: Any) -> str | None:
    """The volseg role recorded in a napari layer's metadata (None for other layers)."""
    info = getattr(layer, "metadata", {}).get("volseg")
    return info.get("role") if isinstance(info, dict) else None


def find_layer(layers: Iterable[Any], role: str) -> Any | None:
    """The first layer with ``role``; layers named like the role count when none has it."""
    layers = list(layers)
    hit = next((lay for lay in layers if role_of(lay) == role), None)
    return hit or next((lay for lay in layers if getattr(lay, "name", None) == role), None)


def add_layers(viewer: Any, layer_data: Iterable[LayerData]) -> list[Any]:
    """Add layer-data tuples to a napari ``Viewer`` or ``ViewerModel``; returns the layers."""
    from napari.layers import Layer

    added = []
    for data, meta, layer_type in layer_data:
        added.append(viewer.add_layer(Layer.create(data, dict(meta), layer_type)))
    return added
