"""The on-disk convention for prediction maps: float32, or uint8 with a recorded affine.

Maps are channel-first ``(c, z, y, x)``. Probability channels lie in [0, 1]; distance
channels in [-1, 1] (tanh). A uint8 map stores ``q = round((value - offset) / scale)`` and
records ``scale`` and ``offset`` per channel under the array attribute ``volseg_maps``, so a
reader recovers ``value = q * scale + offset`` without guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from volseg.errors import VolsegError

ATTR = "volseg_maps"
# Value range per channel kind; anything else is treated as a probability.
RANGES = {
    "distance": (-1.0, 1.0),
    "edt": (-1.0, 1.0),
    "instance_edt": (-1.0, 1.0),
    "semantic_edt": (-1.0, 1.0),
}


def channel_range(name: str) -> tuple[float, float]:
    return RANGES.get(name, (0.0, 1.0))


def quantize(maps: np.ndarray, channels: Sequence[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """Quantise float maps to uint8; returns the array and the attribute to store."""
    if maps.shape[0] != len(channels):
        raise VolsegError(f"{maps.shape[0]} map channels but {len(channels)} channel names.")
    out = np.empty(maps.shape, dtype=np.uint8)
    scales, offsets = [], []
    for i, name in enumerate(channels):
        lo, hi = channel_range(name)
        scale = (hi - lo) / 255.0
        out[i] = np.clip(np.rint((np.asarray(maps[i]) - lo) / scale), 0, 255)
        scales.append(scale)
        offsets.append(lo)
    attrs = {"channels": list(channels), "dtype": "uint8", "scale": scales, "offset": offsets}
    return out, {ATTR: attrs}


def describe(channels: Sequence[str]) -> dict[str, Any]:
    """The attribute for float32 maps."""
    return {ATTR: {"channels": list(channels), "dtype": "float32"}}


def dequantize(data: np.ndarray, attrs: dict[str, Any], *, source: str = "maps") -> np.ndarray:
    """Float32 maps from stored data and its attributes (float data passes through)."""
    info = attrs.get(ATTR)
    if np.issubdtype(data.dtype, np.floating):
        return np.asarray(data, dtype=np.float32)
    if info is None or info.get("dtype") != "uint8" or data.dtype != np.uint8:
        raise VolsegError(
            f"{source} holds {data.dtype} maps without a `{ATTR}` quantisation record; "
            "expected float maps or uint8 maps written by volseg."
        )
    scale = np.asarray(info["scale"], dtype=np.float32).reshape(-1, *([1] * (data.ndim - 1)))
    offset = np.asarray(info["offset"], dtype=np.float32).reshape(scale.shape)
    if scale.shape[0] != data.shape[0]:
        raise VolsegError(
            f"{source}: quantisation record has {scale.shape[0]} channels, "
            f"data has {data.shape[0]}."
        )
    return data.astype(np.float32) * scale + offset


def add_offsets(
    record: dict[str, Any], offsets: Sequence[Sequence[int]], voxel_size: Sequence[float]
) -> dict[str, Any]:
    """``record`` (a ``{volseg_maps: ...}`` attribute) with the affinity channels' offsets.

    Args:
        record: from :func:`describe` or :func:`quantize`.
        offsets: ``(dz, dy, dx)`` voxel offsets of the affinity channels, in channel order.
        voxel_size: ``(z, y, x)`` nm of the grid the offsets count (the training grid).
    """
    info = {
        **record[ATTR],
        "offsets": [[int(v) for v in o] for o in offsets],
        "offsets_voxel_size": [float(v) for v in voxel_size],
    }
    return {**record, ATTR: info}


def offsets_of(attrs: dict[str, Any]) -> list[list[int]] | None:
    """Voxel offsets of the affinity channels recorded with the maps, None when there are none."""
    info = attrs.get(ATTR)
    if not info or info.get("offsets") is None:
        return None
    return [[int(v) for v in o] for o in info["offsets"]]


def channel_names(attrs: dict[str, Any]) -> list[str] | None:
    """Channel names recorded with the maps, if any."""
    info = attrs.get(ATTR)
    return list(info["channels"]) if info and "channels" in info else None
