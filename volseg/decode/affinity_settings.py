"""Which map channels an affinity decoder reads, and their offsets, filled in from what made
the maps: the config (its ``affinity`` target and the ``multi_task_config`` entry that
predicts it) or the maps' own ``volseg_maps`` record (channel names and offsets).

A decoder's explicit ``channels`` / ``offsets`` always win. An affinity decoder pointed at maps
without affinity channels (boundary or distance maps) is refused in one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def layout_from_config(cfg: Mapping[str, Any]) -> Layout:
    """The affinity channels a config's model predicts (plain dict config, already checked: an
    affinity target always has its ``multi_task_config`` entry). Without a
    ``multi_task_config`` every channel is ``binary``, as :func:`volseg.models.parse_tasks`
    names them."""
    from volseg.channels import affinity_offsets

    model, data = cfg["model"], cfg["data"]
    names = ["binary"] * int(model["out_channels"])
    for start, end, name, _ in model.get("multi_task_config") or []:
        names[start:end] = [name] * (end - start)
    channels = [i for i, name in enumerate(names) if name == AFFINITY] or None
    targets = data["label_transform"]["targets"] or []
    kwargs = next((t.get("kwargs") or {} for t in targets if t.get("name") == AFFINITY), None)
    offsets = None
    if kwargs is not None:
        size = data.get("train_resolution") or data.get("voxel_size")
        if kwargs.get("unit", "voxel") == "voxel" or size is not None:
            offsets = [list(o) for o in affinity_offsets(kwargs, voxel_size=size)]
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


def complete_for(
    decoder: str,
    params: Mapping[str, Any],
    *,
    maps_path: str | None = None,
    cfg: Any = None,
    what: str,
) -> dict[str, Any]:
    """:func:`complete` with the layout of the maps at ``maps_path`` (their record), else of
    the loaded config ``cfg``; other decoders, or neither source, pass ``params`` through."""
    params = dict(params)
    if decoder not in AFFINITY_DECODERS:
        return params
    if maps_path is not None:
        from volseg.io import open_volume

        with open_volume(maps_path) as volume:
            layout = layout_from_attrs(volume.attrs)
    elif cfg is not None:
        from omegaconf import OmegaConf

        layout = layout_from_config(OmegaConf.to_container(cfg, resolve=True))
    else:
        return params
    return complete(decoder, params, layout, what=what)


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
