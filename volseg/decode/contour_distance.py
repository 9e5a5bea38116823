"""Binary + contour + distance maps to instances (the MitoEM / PyTorch Connectomics decoder).

seeds      = cc(binary > b_seed & contour < c_seed & distance > d_seed), small seeds dropped
foreground = binary > b_fg & contour < c_fg & distance > d_fg
labels     = seeded watershed of the inverted distance (1 - binary without a distance channel),
             restricted to the foreground; instances < min_instance_size removed; ids 1..N.

Unlike PyTorch Connectomics (mahotas.cwatershed over the whole volume, masked afterwards) the
flood is restricted to the foreground, so an unseeded foreground component stays background
instead of being claimed by a seed through background voxels. The steps are public so that
``volseg.tune.sweep`` can reuse seeds and foregrounds across settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import fastremap
import numpy as np

from volseg.decode.postprocess import (
    connected_components,
    kernel_connectivity,
    relabel_sequential,
    remove_small,
)
from volseg.decode.watershed import watershed
from volseg.errors import VolsegError

Pair = tuple[float | None, float | None] | None
TERMS = ("binary", "contour", "distance")
# Valid threshold ranges: binary and contour are probabilities, distance is tanh-normalised.
RANGES = {"binary": (0.0, 1.0), "contour": (0.0, 1.0), "distance": (-1.0, 1.0)}


@dataclass(frozen=True)
class Channels:
    """The binary, contour and distance maps of one prediction (any may be None)."""

    binary: np.ndarray | None
    contour: np.ndarray | None
    distance: np.ndarray | None

    def get(self, name: str) -> np.ndarray | None:
        return getattr(self, name)


def split_channels(maps: np.ndarray, channels: Sequence[int | None] = (0, 1, 2)) -> Channels:
    """Validate ``maps`` (c, z, y, x) and pick the binary/contour/distance channels.

    ``channels`` gives the channel index of (binary, contour, distance); None means absent.
    """
    maps = np.asarray(maps) if not hasattr(maps, "ndim") else maps
    if maps.ndim not in (3, 4):
        raise VolsegError(
            f"maps must be channel-first (c, z, y, x) or (c, y, x), got shape {maps.shape}."
        )
    if len(channels) != 3:
        raise VolsegError(
            f"channels must give three indices (binary, contour, distance), got {channels}."
        )
    if all(c is None for c in channels):
        raise VolsegError("channels must name at least one of binary, contour, distance.")
    if not np.issubdtype(maps.dtype, np.floating):
        raise VolsegError(
            f"maps must be float (dequantise uint8 maps first), got dtype {maps.dtype}."
        )
    picked = {}
    for name, idx in zip(TERMS, channels, strict=True):
        if idx is None:
            picked[name] = None
            continue
        if not 0 <= int(idx) < maps.shape[0]:
            raise VolsegError(
                f"{name} channel {idx} is out of range: the maps have {maps.shape[0]} channels "
                f"(shape {maps.shape})."
            )
        picked[name] = np.asarray(maps[int(idx)])
    for name, arr in picked.items():
        if arr is not None and not np.isfinite(arr).all():
            raise VolsegError(f"the {name} map contains NaN or inf values.")
    return Channels(**picked)


def check_pair(name: str, pair: Pair) -> Pair:
    """Validate a (seed, foreground) threshold pair; None switches a term off."""
    if pair is None:
        return None
    if np.isscalar(pair) or len(pair) != 2:
        raise VolsegError(f"{name}_threshold must be a pair (seed, foreground), got {pair!r}.")
    lo, hi = RANGES[name]
    out = []
    for value in pair:
        if value is not None:
            value = float(value)
            if not lo <= value <= hi:
                raise VolsegError(
                    f"{name}_threshold values must lie in [{lo:g}, {hi:g}], got {value:g}."
                )
        out.append(value)
    return (out[0], out[1])


def threshold_mask(ch: Channels, thresholds: dict[str, Pair], which: int) -> np.ndarray | None:
    """AND of the active terms for seeds (``which=0``) or foreground (``which=1``).

    binary > t, contour < t, distance > t; returns None when no term is active.
    """
    mask = None
    for name in TERMS:
        arr, pair = ch.get(name), thresholds.get(name)
        if arr is None or pair is None or pair[which] is None:
            continue
        term = arr < pair[which] if name == "contour" else arr > pair[which]
        mask = term if mask is None else np.logical_and(mask, term, out=mask)
    return mask


def flood_height(ch: Channels, *, levels: int = 16384, contour_ridge: bool = False) -> np.ndarray:
    """Quantised watershed height: inverted distance (clipped at 0) or 1 - binary.

    With ``contour_ridge`` the height is ``max(1 - distance, contour)``: boundary voxels form a
    ridge of the same height around every instance. The distance map is normalised per
    instance, so without the ridge a small instance's rim (low height) floods before a large
    neighbour's interior and steals its thin parts; dense neurons need the ridge.
    Quantising to ``levels`` grey values is what maps stored as uint8 hold anyway, and it lets
    the kernel use its bucket queue (fast mode).
    """
    one, zero = np.float32(1), np.float32(0)
    if ch.distance is not None:
        source = np.clip(ch.distance, zero, one, dtype=np.float32)
    elif ch.binary is not None:
        source = np.clip(ch.binary, zero, one, dtype=np.float32)
    else:
        raise VolsegError("watershed decoding needs a distance or a binary channel.")
    if contour_ridge:
        if ch.contour is None:
            raise VolsegError("contour_ridge needs a contour channel.")
        interior = np.clip(ch.contour, zero, one, dtype=np.float32)
        np.subtract(one, interior, out=interior)
        np.minimum(source, interior, out=source)
    dtype = np.uint8 if levels <= 256 else np.uint16
    # in place: this runs once per decode on the whole volume
    np.subtract(one, source, out=source)
    source *= np.float32(levels - 1)
    source += np.float32(0.5)
    return source.astype(dtype)


def make_seeds(
    seed_mask: np.ndarray, *, min_seed_size: int = 0, connectivity: int = 26
) -> np.ndarray:
    """Connected components of the seed mask with small seeds dropped."""
    seeds = connected_components(seed_mask, connectivity=connectivity)
    if min_seed_size > 1:  # cc3d ids are 1..N: a bincount is cheaper than a unique
        counts = np.bincount(seeds.ravel())
        small = np.flatnonzero(counts < min_seed_size)
        small = small[small > 0]
        if small.size:
            seeds = fastremap.mask(seeds, small, in_place=True)
    return seeds


def contour_distance(
    maps: np.ndarray,
    *,
    binary_threshold: Pair = (0.9, 0.85),
    contour_threshold: Pair = (0.8, None),
    distance_threshold: Pair = (0.5, 0.0),
    min_seed_size: int = 32,
    min_instance_size: int = 0,
    channels: Sequence[int | None] = (0, 1, 2),
    mode: str = "watershed",
    connectivity: int = 6,
    seed_connectivity: int = 26,
    contour_ridge: bool = False,
    levels: int = 16384,
    parallel: bool = False,
) -> np.ndarray:
    """Decode binary/contour/distance maps into instance labels.

    Args:
        maps: float maps (c, z, y, x): foreground probability, boundary probability and
            tanh-normalised distance, in the channels given by ``channels``.
        binary_threshold: (seed, foreground) thresholds on the binary map (> t).
        contour_threshold: (seed, foreground) thresholds on the contour map (< t).
        distance_threshold: (seed, foreground) thresholds on the distance map (> t).
        min_seed_size: seeds with fewer voxels are dropped before the flood.
        min_instance_size: instances with fewer voxels are removed afterwards.
        channels: channel index of (binary, contour, distance); None for an absent map.
        mode: "watershed" (seeded flood) or "cc" (connected components of the foreground).
        connectivity: watershed neighbourhood, 6, 18 or 26 (4 or 8 for 2D maps).
        seed_connectivity: cc3d connectivity for seeds and for ``mode="cc"`` (6, 18, 26).
        contour_ridge: flood ``max(1 - distance, contour)`` instead of ``1 - distance`` (see
            :func:`flood_height`); needs a contour channel.
        levels: grey levels of the quantised flood height: 65536 (default, uint16) or 256
            (uint8, as maps stored in uint8 hold anyway).
        parallel: use the kernel's parallel variant.

    Returns:
        uint32 labels (uint64 if needed), 0 = background, ids 1..N.
    """
    ch = split_channels(maps, channels)
    thresholds = {
        "binary": check_pair("binary", binary_threshold),
        "contour": check_pair("contour", contour_threshold),
        "distance": check_pair("distance", distance_threshold),
    }
    for name, value in (("min_seed_size", min_seed_size), ("min_instance_size", min_instance_size)):
        if int(value) < 0:
            raise VolsegError(f"{name} must be >= 0, got {value}.")
    if mode not in ("watershed", "cc"):
        raise VolsegError(f"mode must be 'watershed' or 'cc', got {mode!r}.")
    if not 2 <= int(levels) <= 65536:
        raise VolsegError(f"levels must be from 2 to 65536, got {levels}.")
    shape = next(a.shape for a in (ch.binary, ch.contour, ch.distance) if a is not None)
    foreground = threshold_mask(ch, thresholds, 1)
    if foreground is None:
        foreground = np.ones(shape, dtype=bool)
    if mode == "cc":
        labels = connected_components(foreground, connectivity=seed_connectivity)
    else:
        seed_mask = threshold_mask(ch, thresholds, 0)
        if seed_mask is None:
            raise VolsegError("watershed mode needs at least one active seed threshold.")
        seeds = make_seeds(seed_mask, min_seed_size=min_seed_size, connectivity=seed_connectivity)
        labels = watershed(
            flood_height(ch, levels=levels, contour_ridge=contour_ridge),
            seeds,
            mask=foreground,
            connectivity=kernel_connectivity(connectivity, len(shape)),
            parallel=parallel,
        )
    labels = remove_small(labels, min_size=int(min_instance_size), in_place=True)
    return relabel_sequential(labels, in_place=True)
