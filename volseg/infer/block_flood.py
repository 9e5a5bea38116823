"""The voxel-wise parts of the seeded decoders, and a flood that knows what it cannot know.

A seeded decoder (``contour_distance`` in watershed mode, ``watershed`` with threshold seeds)
is three voxel-wise maps (seed mask, foreground, flood height), computed here with the
decoders' own public steps so they equal the whole-volume call on every voxel, plus two
non-local steps: the connected components of the seed mask (with ``min_seed_size``) and the
flood. :mod:`volseg.infer.seeded_decode` labels the seeds globally; :func:`certified_flood`
floods one block's read region from those global seeds and reports the write-region voxels
whose label could depend on data beyond the read region.

Certificate. Anything outside the read region reaches the inside only through foreground
voxels on a cut face of the region (a face inside the volume), and reaches such a voxel ``b``
at flood level ``height[b]`` or later. So the region is flooded twice: from the real seeds
alone, and with every cut-face foreground voxel (not a seed) as a seed of one extra id,
``unknown``, which stands for the earliest that outside influence could arrive. A voxel is
*certain* when both floods give it the same real seed: its seed reaches it, inside the region,
before anything from outside could. Where flood levels have no ties this is the whole-volume
label; on a tie the queue order decides, and the two floods agree only when the tie breaks
the same way inside the region, which is what the whole volume then does too unless its
outside pushes break it otherwise (no such case was found on the real-data tests).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from volseg.decode import contour_distance
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


_DEFAULTS = {"contour_distance": _defaults(contour_distance), "watershed": _defaults(watershed_maps)}


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


def border_seeds(foreground: np.ndarray | None, seeds: np.ndarray, cut: Cut) -> np.ndarray:
    """Foreground voxels on the cut faces of a region that are not seeds (bool)."""
    border = np.zeros(seeds.shape, dtype=bool)
    for axis, (low, high) in enumerate(cut):
        for side, is_cut in ((0, low), (-1, high)):
            if is_cut:
                index = [slice(None)] * seeds.ndim
                index[axis] = side
                border[tuple(index)] = True
    if foreground is not None:
        border &= foreground
    return border & (seeds == 0)


def certified_flood(
    height: np.ndarray,
    seeds: np.ndarray,
    foreground: np.ndarray | None,
    *,
    connectivity: int,
    cut: Cut,
    inner: tuple[slice, ...],
) -> tuple[np.ndarray, int]:
    """Flood a read region from global seed ids; count the uncertain write-region voxels.

    Args:
        height: the region's flood height.
        seeds: global seed ids in the region (0 = none).
        foreground: voxels to flood (None = all).
        connectivity: flood neighbourhood, 1..3.
        cut: which faces of the region lie inside the volume.
        inner: the write region as slices into the region.

    Returns:
        ``(labels of the write region, uncertain voxels there)`` (see the module docstring).
    """
    labels = watershed(height, seeds, mask=foreground, connectivity=connectivity)
    border = border_seeds(foreground, seeds, cut)
    if not border.any():
        return labels[inner], 0
    unknown = int(seeds.max(initial=0)) + 1
    dtype = np.uint64 if unknown >= 2**32 - 1 else seeds.dtype
    probe = np.where(border, np.asarray(unknown, dtype=dtype), seeds.astype(dtype, copy=False))
    check = watershed(height, probe, mask=foreground, connectivity=connectivity)
    labels, check = labels[inner], check[inner]
    uncertain = (check != labels) | (check == unknown)
    return labels, int(np.count_nonzero(uncertain))
