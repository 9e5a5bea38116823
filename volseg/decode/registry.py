"""Decoders by name, with strict keyword checking (unknown kwargs are errors, not dropped)."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from volseg.decode.affinity import affinity_cc, agglomerate, mutex_watershed
from volseg.decode.cc import cc
from volseg.decode.contour_distance import contour_distance
from volseg.decode.postprocess import kernel_connectivity, relabel_sequential, remove_small
from volseg.decode.watershed import watershed
from volseg.errors import VolsegError


def watershed_maps(
    maps: np.ndarray,
    *,
    channel: int = 0,
    invert: bool = True,
    threshold: float | None = None,
    h: float | None = None,
    mask_threshold: float | None = 0.5,
    min_seed_size: int = 0,
    min_instance_size: int = 0,
    connectivity: int = 6,
) -> np.ndarray:
    """Seeded watershed of one map channel (``1 - map`` when ``invert``) for decoding.

    Seeds are minima found by ``threshold`` (height below it) or ``h`` (h-minima); the flood is
    restricted to ``maps[channel] > mask_threshold`` when inverting a probability, or to
    ``maps[channel] < mask_threshold`` for a boundary map (``invert=False``); None floods all.
    """
    if maps.ndim != 4 or not 0 <= channel < maps.shape[0]:
        raise VolsegError(f"channel {channel} is not in maps of shape {maps.shape}.")
    prob = np.asarray(maps[channel], dtype=np.float32)
    height = 1.0 - prob if invert else prob
    mask = None
    if mask_threshold is not None:
        mask = prob > mask_threshold if invert else prob < mask_threshold
    labels = watershed(
        height,
        mask=mask,
        threshold=threshold,
        h=h,
        min_seed_size=min_seed_size,
        connectivity=kernel_connectivity(connectivity, height.ndim),
    )
    labels = remove_small(labels, min_size=min_instance_size, in_place=True)
    return relabel_sequential(labels, in_place=True)


def cc_maps(
    maps: np.ndarray,
    *,
    channel: int = 0,
    threshold: float = 0.5,
    connectivity: int = 26,
    min_instance_size: int = 0,
) -> np.ndarray:
    """Connected components of ``maps[channel] > threshold``."""
    if maps.ndim != 4 or not 0 <= channel < maps.shape[0]:
        raise VolsegError(f"channel {channel} is not in maps of shape {maps.shape}.")
    return cc(
        np.asarray(maps[channel]),
        threshold=threshold,
        connectivity=connectivity,
        min_instance_size=min_instance_size,
    )


DECODERS: dict[str, Callable[..., np.ndarray]] = {
    "contour_distance": contour_distance,
    "watershed": watershed_maps,
    "cc": cc_maps,
    "affinity_cc": affinity_cc,
    "agglomerate": agglomerate,
    "mutex_watershed": mutex_watershed,
}
#: Decoders that read affinity channels (``offsets`` / ``channels`` options).
AFFINITY_DECODERS = ("affinity_cc", "agglomerate", "mutex_watershed")


def decoder_kwargs(name: str) -> list[str]:
    """The keyword options a decoder accepts."""
    if name not in DECODERS:
        raise VolsegError(f"unknown decoder {name!r}; valid: {', '.join(DECODERS)}.")
    sig = inspect.signature(DECODERS[name])
    return [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]


def decode(maps: np.ndarray, name: str, params: Mapping[str, Any] | None = None) -> np.ndarray:
    """Run decoder ``name`` on float maps (c, z, y, x) with ``params``; unknown keys fail."""
    valid = decoder_kwargs(name)
    params = dict(params or {})
    for key in params:
        if key not in valid:
            hint = difflib.get_close_matches(key, valid, n=1)
            tip = f"; did you mean `{hint[0]}`?" if hint else f"; valid: {', '.join(valid)}"
            raise VolsegError(f"decoder {name!r} has no option `{key}`{tip}")
    return DECODERS[name](maps, **params)
