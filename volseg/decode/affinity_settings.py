"""Which map channels an affinity decoder reads, and their offsets, filled in from what made
the maps: the config (its ``affinity`` target and the ``multi_task_config`` entry that
predicts it) or the maps' own ``volseg_maps`` record (channel names and offsets).

A decoder's explicit ``channels`` / ``offsets`` always win. An affinity decoder pointed at maps
without affinity channels (boundary or distance maps) is refused in one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from volseg.errors import VolsegError
from volseg.offsets import parse_offsets

#: Decoders that read affinity channels.
AFFINITY_DECODERS = ("affinity_cc", "agglomerate", "mutex_watershed")
AFFINITY = "affinity"


class Layout(NamedTuple):
    """Affinity channels of some maps (None where nothing says) and the names of all of them."""

    channels: list[int] | None
    offsets: list[list[int]] | None
    names: list[str] | None


def _affinity_target(targets: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    return next((t for t in targets if t.get("name") == AFFINITY), None)


def layout_from_config(cfg: Mapping[str, Any]) -> Layout:
    """The affinity channels a config's model predicts (plain dict config)."""
    model, data = cfg["model"], cfg["data"]
    targets = data["label_transform"]["targets"] or []
    tasks = model.get("multi_task_config") or []
    names: list[str] = [""] * int(model["out_channels"])
    channels = None
    for start, end, name, _ in tasks:
        names[start:end] = [name] * (end - start)
        if name == AFFINITY:
            channels = list(range(start, end))
    if not tasks:
        names = [str(t["name"]) for t in targets][: len(names)] or names
    target = _affinity_target(targets)
    offsets = None
    if target is not None:
        kwargs = target.get("kwargs") or {}
        unit = kwargs.get("unit", "voxel")
        size = data.get("train_resolution") or data.get("voxel_size")
        if unit == "voxel" or size is not None:
            offsets = [
                list(o)
                for o in parse_offsets(kwargs.get("offsets", "nearest"), unit=unit, voxel_size=size)
            ]
        if channels is None and not tasks and offsets is not None:
            channels = list(range(len(offsets)))
    return Layout(channels, offsets, names)


def layout_from_attrs(attrs: Mapping[str, Any]) -> Layout:
    """The affinity channels recorded with written maps."""
    from volseg.maps import ATTR

    info = attrs.get(ATTR) or {}
    names = list(info["channels"]) if "channels" in info else None
    channels = [i for i, n in enumerate(names) if n == AFFINITY] if names else None
    offsets = info.get("offsets")
    return Layout(channels or None, [list(o) for o in offsets] if offsets else None, names)


def complete(
    decoder: str, params: Mapping[str, Any], layout: Layout, *, what: str
) -> dict[str, Any]:
    """``params`` with ``channels`` and ``offsets`` filled in from ``layout`` for an affinity
    decoder; other decoders pass through. ``what`` names the maps or config in errors."""
    params = dict(params)
    if decoder not in AFFINITY_DECODERS:
        return params
    if layout.names is not None and AFFINITY not in layout.names:
        kinds = ", ".join(dict.fromkeys(n for n in layout.names if n)) or "unnamed channels"
        raise VolsegError(
            f"decoder {decoder!r} reads affinity maps, but {what} holds {kinds} channels and no "
            "affinities; decode them with contour_distance, watershed or cc, or train an "
            "affinity target."
        )
    if params.get("channels") is None and layout.channels is not None:
        params["channels"] = list(layout.channels)
    if params.get("offsets") is None and layout.offsets is not None:
        params["offsets"] = [list(o) for o in layout.offsets]
    chosen = params.get("channels")
    if chosen is not None and layout.names is not None:
        wrong = [c for c in chosen if c < len(layout.names) and layout.names[c] != AFFINITY]
        if wrong:
            raise VolsegError(
                f"decoder {decoder!r} reads channel(s) {wrong} of {what}, which hold "
                f"{', '.join(layout.names[c] for c in wrong)}, not affinities."
            )
    return params


def complete_config(cfg: dict[str, Any], where: str) -> None:
    """Fill the affinity decoders of ``test.decoding`` in a plain config, in place."""
    decoding = cfg["test"]["decoding"]
    if (
        not any(d["name"] in AFFINITY_DECODERS for d in decoding)
        and cfg["tune"]["decoder"] not in AFFINITY_DECODERS
    ):
        return
    layout = layout_from_config(cfg)
    for i, dec in enumerate(decoding):
        dec["kwargs"] = complete(
            dec["name"], dec["kwargs"], layout, what=f"{where} (model and data targets)"
        )
        if dec["name"] in AFFINITY_DECODERS:
            _check_count(dec["kwargs"], f"{where}: test.decoding[{i}]")


def _check_count(params: Mapping[str, Any], what: str) -> None:
    channels, offsets = params.get("channels"), params.get("offsets")
    if channels is None or offsets is None:
        return
    n = len(parse_offsets(offsets))
    if n != len(channels):
        raise VolsegError(
            f"{what} reads {len(channels)} affinity channel(s) but has {n} offset(s); each "
            "affinity channel needs its offset."
        )
