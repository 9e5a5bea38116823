"""Decode one block's maps as :func:`volseg.decode.decode` does, minus one artefact of cutting.

``contour_distance`` drops seeds smaller than ``min_seed_size``. A seed that the block's
read region cuts may be small inside the block and large in the volume; dropping it leaves
its instance unseeded in that block, where a neighbour's seed floods it, and stitching then
merges the two instances. So here the size filter spares seeds that touch a cut face of the
read region (a face inside the volume). A seed that is small in the whole volume too then
survives in that block's halo; it can only take voxels near the read-region border, far from
the seam that stitching compares and from the write region when the halo is wide enough.

The steps are the public ones of :mod:`volseg.decode.contour_distance` (the same ones the
threshold sweep reuses); ``tests/infer/test_block_decoder.py`` checks that an uncut block
decodes exactly as ``contour_distance``. Other decoders run unchanged through ``decode``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import fastremap
import numpy as np

from volseg.decode import contour_distance, decode
from volseg.decode.contour_distance import (
    TERMS,
    check_pair,
    flood_height,
    split_channels,
    threshold_mask,
)
from volseg.decode.postprocess import (
    connected_components,
    kernel_connectivity,
    relabel_sequential,
    remove_small,
)
from volseg.decode.registry import decoder_kwargs
from volseg.decode.watershed import watershed
from volseg.errors import VolsegError

Cut = Sequence[tuple[bool, bool]]  # per axis: (lower face cut, upper face cut)

_DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(contour_distance).parameters.items()
    if p.kind is p.KEYWORD_ONLY
}


def cut_faces(read: Sequence[slice], shape: Sequence[int]) -> tuple[tuple[bool, bool], ...]:
    """Which faces of a read region lie inside the volume (the region cuts the data there)."""
    return tuple((r.start > 0, r.stop < n) for r, n in zip(read, shape, strict=True))


def drop_small_uncut(seeds: np.ndarray, *, min_size: int, cut: Cut) -> np.ndarray:
    """Remove seeds with fewer than ``min_size`` voxels unless they touch a cut face."""
    if min_size <= 1:
        return seeds
    touching = [np.zeros(0, dtype=seeds.dtype)]
    for axis, (low, high) in enumerate(cut):
        for side, is_cut in ((0, low), (-1, high)):
            if is_cut:
                touching.append(fastremap.unique(np.take(seeds, side, axis=axis)))
    ids, counts = fastremap.unique(seeds, return_counts=True)
    small = ids[(counts < min_size) & (ids != 0)]
    small = small[~np.isin(small, np.concatenate(touching))]
    if small.size:
        seeds = fastremap.mask(seeds, small, in_place=True)
    return seeds


def _contour_distance(maps: np.ndarray, params: Mapping[str, Any], cut: Cut) -> np.ndarray:
    p = {**_DEFAULTS, **params}
    ch = split_channels(maps, p["channels"])
    thresholds = {name: check_pair(name, p[f"{name}_threshold"]) for name in TERMS}
    shape = next(a.shape for a in (ch.binary, ch.contour, ch.distance) if a is not None)
    foreground = threshold_mask(ch, thresholds, 1)
    if foreground is None:
        foreground = np.ones(shape, dtype=bool)
    seed_mask = threshold_mask(ch, thresholds, 0)
    if seed_mask is None:
        raise VolsegError("watershed mode needs at least one active seed threshold.")
    seeds = connected_components(seed_mask, connectivity=int(p["seed_connectivity"]))
    seeds = drop_small_uncut(seeds, min_size=int(p["min_seed_size"]), cut=cut)
    labels = watershed(
        flood_height(ch, levels=int(p["levels"]), contour_ridge=bool(p["contour_ridge"])),
        seeds,
        mask=foreground,
        connectivity=kernel_connectivity(int(p["connectivity"]), len(shape)),
        parallel=bool(p["parallel"]),
    )
    labels = remove_small(labels, min_size=int(p["min_instance_size"]), in_place=True)
    return relabel_sequential(labels, in_place=True)


def decode_block_maps(
    maps: np.ndarray, decoder: str, params: Mapping[str, Any], *, cut: Cut
) -> np.ndarray:
    """``decode(maps, decoder, params)`` for a block whose read region is cut at ``cut``.

    Only ``contour_distance`` in watershed mode with ``min_seed_size > 1`` differs: seeds
    touching a cut face are kept whatever their size (see the module docstring).
    """
    needs_care = (
        decoder == "contour_distance"
        and params.get("mode", "watershed") == "watershed"
        and int(params.get("min_seed_size", _DEFAULTS["min_seed_size"])) > 1
        and any(low or high for low, high in cut)
    )
    if not needs_care:
        return decode(maps, decoder, params)
    valid = decoder_kwargs(decoder)
    unknown = [key for key in params if key not in valid]
    if unknown:
        raise VolsegError(f"decoder {decoder!r} has no option `{unknown[0]}`.")
    return _contour_distance(maps, params, cut)
