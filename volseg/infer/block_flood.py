"""The voxel-wise parts of the seeded decoders, and a flood that knows what it cannot know.

A seeded decoder (``contour_distance`` in watershed mode, ``watershed`` with threshold seeds)
is three voxel-wise maps (seed mask, foreground, flood height), computed here with the
decoders' own public steps so they equal the whole-volume call on every voxel, plus two
non-local steps: the connected components of the seed mask (with ``min_seed_size``) and the
flood. :mod:`volseg.infer.seeded_decode` labels the seeds globally; :func:`ring_flood`
floods one block's read region from those global seeds and from its neighbours' answers.

Why the exchange is exact. The watershed gives every voxel the label of its cheapest path
from a seed, the cost of a path being its highest height (the flood *level*,
:func:`volseg.decode._levels.flood_levels`), and the flood carries a voxel's own label on to
its neighbours. A path from anywhere to a voxel of the read region enters the region last
through a voxel ``b`` on a cut face and then stays inside, so it costs at least
``max(level[b], the inside part)`` and carries ``label[b]``. Flooding the region from its own
seeds plus every cut-face voxel, started with the label and level its neighbour block found,
therefore reproduces the whole-volume flood wherever those are right. Levels found so are
costs of real paths (upper bounds); repeating the rounds lowers them to the true levels
along the cheapest paths, one block face per round, and when a round changes nothing every
voxel holds its whole-volume level and, where levels have no ties, its whole-volume label.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from volseg.decode import contour_distance
from volseg.decode._levels import flood_levels
from volseg.decode._seeds import cc3d_connectivity
from volseg.decode.contour_distance import TERMS, check_pair, flood_height, split_channels
from volseg.decode.contour_distance import threshold_mask as _threshold_mask
from volseg.decode.postprocess import kernel_connectivity
from volseg.decode.registry import watershed_maps
from volseg.decode.watershed import watershed
from volseg.errors import VolsegError

Cut = Sequence[tuple[bool, bool]]  # per axis: (lower face cut, upper face cut)


def _defaults(fn: Any) -> dict[str, Any]:
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }


_DEFAULTS = {
    "contour_distance": _defaults(contour_distance),
    "watershed": _defaults(watershed_maps),
}


@dataclass(frozen=True)
class Pieces:
    """The voxel-wise maps of a seeded decode of one region."""

    seed_mask: np.ndarray  # bool
    foreground: np.ndarray | None  # bool, None = everything
    height: np.ndarray  # uint16 (contour_distance) or float32 (watershed)


@dataclass(frozen=True)
class SeededSpec:
    """A seeded decoder's non-local settings, resolved from its options."""

    decoder: str
    params: dict[str, Any]
    seed_connectivity: int  # cc3d: 6, 18 or 26
    connectivity: int  # flood, scipy style: 1, 2 or 3
    min_seed_size: int
    min_instance_size: int


def seeded_spec(decoder: str, params: Mapping[str, Any]) -> SeededSpec | None:
    """The spec of a seeded decode, or None for a decoder this route does not handle
    (``cc``, ``contour_distance`` in cc mode: they are stitched exactly by components).

    Raises:
        VolsegError: ``watershed`` seeded by h-minima (regional minima are not local).
    """
    if decoder not in _DEFAULTS:
        return None
    p = {**_DEFAULTS[decoder], **params}
    if decoder == "contour_distance":
        if p["mode"] != "watershed":
            return None
        seed_conn = int(p["seed_connectivity"])
    else:
        if p["h"] is not None:
            raise VolsegError(
                "blockwise decoding of `watershed` needs threshold seeds: h-minima depend on "
                "the whole volume; give `threshold` instead of `h`."
            )
        if p["threshold"] is None:
            raise VolsegError("decoder 'watershed' needs a seed `threshold` (or `h`).")
        seed_conn = cc3d_connectivity(3, kernel_connectivity(int(p["connectivity"]), 3))
    return SeededSpec(
        decoder=decoder,
        params=dict(params),
        seed_connectivity=seed_conn,
        connectivity=kernel_connectivity(int(p["connectivity"]), 3),
        min_seed_size=int(p["min_seed_size"]),
        min_instance_size=int(p["min_instance_size"]),
    )


def pieces(maps: np.ndarray, spec: SeededSpec, *, need_height: bool = True) -> Pieces:
    """Seed mask, foreground and flood height of a region's maps, as the decoder makes them."""
    p = {**_DEFAULTS[spec.decoder], **spec.params}
    if spec.decoder == "contour_distance":
        ch = split_channels(maps, p["channels"])
        thresholds = {name: check_pair(name, p[f"{name}_threshold"]) for name in TERMS}
        seed_mask = _threshold_mask(ch, thresholds, 0)
        if seed_mask is None:
            raise VolsegError("watershed mode needs at least one active seed threshold.")
        foreground = _threshold_mask(ch, thresholds, 1)
        height = (
            flood_height(ch, levels=int(p["levels"]), contour_ridge=bool(p["contour_ridge"]))
            if need_height
            else seed_mask
        )
        return Pieces(seed_mask, foreground, height)
    channel = int(p["channel"])
    if maps.ndim != 4 or not 0 <= channel < maps.shape[0]:
        raise VolsegError(f"channel {channel} is not in maps of shape {maps.shape}.")
    prob = np.asarray(maps[channel], dtype=np.float32)
    height = 1.0 - prob if p["invert"] else prob
    mt = p["mask_threshold"]
    foreground = None if mt is None else (prob > mt if p["invert"] else prob < mt)
    seed_mask = height < float(p["threshold"])
    if foreground is not None:
        seed_mask &= foreground
    return Pieces(seed_mask, foreground, height)


def ring(shape: Sequence[int], cut: Cut) -> np.ndarray:
    """The voxels on the cut faces of a region (bool): where its outside touches it."""
    out = np.zeros(tuple(shape), dtype=bool)
    for axis, (low, high) in enumerate(cut):
        for side, is_cut in ((0, low), (-1, high)):
            if is_cut:
                index = [slice(None)] * len(shape)
                index[axis] = side
                out[tuple(index)] = True
    return out


def ring_flood(
    height: np.ndarray,
    seeds: np.ndarray,
    foreground: np.ndarray | None,
    *,
    connectivity: int,
    cut: Cut,
    outside: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Flood a read region from its global seeds and from what its neighbours know.

    Args:
        height: the region's flood height.
        seeds: global seed ids in the region (0 = none).
        foreground: voxels to flood (None = all).
        connectivity: flood neighbourhood, 1..3.
        cut: which faces of the region lie inside the volume.
        outside: ``(labels, levels)`` of the region's voxels as the neighbouring blocks last
            flooded them (levels ``inf`` where unknown), or None in the first round. Only the
            cut-face voxels are used: each, not a seed, starts the flood with its label at
            its level (see the module docstring).

    Returns:
        ``(labels, levels)`` of the whole region.
    """
    markers = seeds
    if outside is not None:
        labels_out, levels_out = outside
        entry = ring(seeds.shape, cut) & np.isfinite(levels_out) & (labels_out > 0)
        entry &= seeds == 0
        if foreground is not None:
            entry &= foreground
        if entry.any():
            dtype = np.promote_types(seeds.dtype, labels_out.dtype)
            markers = np.where(entry, labels_out.astype(dtype), seeds.astype(dtype))
            height = height.copy()
            height[entry] = levels_out[entry].astype(height.dtype)
    labels = watershed(height, markers, mask=foreground, connectivity=connectivity)
    levels = flood_levels(height, markers > 0, foreground, connectivity=connectivity)
    return labels, levels.astype(np.float32)
