"""How many channels each label target makes (light: no torch, no image libraries).

Every target makes one channel except ``affinity``, which makes one per offset. The count is
needed wherever channels are laid out: the targets, the loss, the config checks and the maps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from volseg.offsets import Offset, parse_offsets

#: Targets with one channel per entry of a list (the rest have one channel).
MULTI_CHANNEL = ("affinity",)
DEFAULT_OFFSETS = "nearest"


def affinity_offsets(
    kwargs: Mapping[str, Any] | None, *, voxel_size: Sequence[float] | None = None
) -> tuple[Offset, ...]:
    """The voxel offsets of an ``affinity`` target from its kwargs.

    Args:
        kwargs: the target's kwargs (``offsets``: preset name or list, ``unit``: voxel or nm).
        voxel_size: ``(z, y, x)`` nm of the training grid, needed for ``unit: nm``.

    Returns:
        The offsets in voxels, in channel order.
    """
    kwargs = kwargs or {}
    offsets = kwargs.get("offsets", DEFAULT_OFFSETS)
    unit = kwargs.get("unit", "voxel")
    return parse_offsets(offsets, unit=unit, voxel_size=voxel_size)


def target_channels(
    name: str, kwargs: Mapping[str, Any] | None = None, *, voxel_size: Sequence[float] | None = None
) -> int:
    """Channels target ``name`` makes with ``kwargs`` (the unit does not change the count).

    Args:
        name: the target name.
        kwargs: the target's kwargs.
        voxel_size: the training grid's voxel size, used only to check nm offsets.

    Returns:
        1, or for ``affinity`` the number of offsets.
    """
    if name not in MULTI_CHANNEL:
        return 1
    if voxel_size is None and (kwargs or {}).get("unit") == "nm":
        voxel_size = (1e-6, 1e-6, 1e-6)  # any grid keeps the count; this one keeps every step
    return len(affinity_offsets(kwargs, voxel_size=voxel_size))


def target_layout(
    spec: Sequence[tuple[str, Mapping[str, Any]]], *, voxel_size: Sequence[float] | None = None
) -> list[tuple[str, int, int]]:
    """``(name, first, end)`` target channels of each ``(name, kwargs)`` pair, in order."""
    out, start = [], 0
    for name, kwargs in spec:
        end = start + target_channels(name, kwargs, voxel_size=voxel_size)
        out.append((name, start, end))
        start = end
    return out


def per_channel_names(targets: Any) -> list[str]:
    """The target name of every target channel, in order (``data.label_transform.targets``
    entries: an affinity target gives one name per offset)."""
    out: list[str] = []
    for t in targets:
        name = t["name"] if isinstance(t, Mapping) else t.name
        kwargs = (t.get("kwargs") if isinstance(t, Mapping) else t.kwargs) or {}
        out += [name] * target_channels(name, dict(kwargs))
    return out
