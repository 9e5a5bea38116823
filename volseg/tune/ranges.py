"""Which map channel each decoder threshold reads, and settings whose thresholds lie outside it.

A threshold below a probability map's lowest value passes every voxel (the whole volume becomes
foreground); one at or above its highest value passes none. Such a setting says nothing about
the decoder, so a sweep reports and skips it instead of scoring it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# contour_distance terms: (pair option, channel slot, voxels pass when map OP threshold)
_CD_TERMS = (("binary_threshold", 0, ">"), ("contour_threshold", 1, "<"),
             ("distance_threshold", 2, ">"))  # fmt: skip


def threshold_uses(decoder: str, params: Mapping[str, Any]) -> list[tuple[str, int, str, float]]:
    """``(option, channel, op, value)`` for every active threshold of one decoder setting."""
    uses: list[tuple[str, int, str, float]] = []
    if decoder == "contour_distance":
        channels = list(params.get("channels", (0, 1, 2)))
        slots = (1,) if params.get("mode") == "cc" else (0, 1)
        for option, idx, op in _CD_TERMS:
            pair = params.get(option)
            if pair is None or channels[idx] is None:
                continue
            for slot in slots:
                if pair[slot] is not None:
                    name = f"{option}.{'seed' if slot == 0 else 'fg'}"
                    uses.append((name, int(channels[idx]), op, float(pair[slot])))
    elif decoder == "watershed":
        ch, invert = int(params.get("channel", 0)), bool(params.get("invert", True))
        if params.get("threshold") is not None:  # seeds: height < t, height = 1 - p if invert
            t = float(params["threshold"])
            uses.append(("threshold", ch, ">", 1.0 - t) if invert else ("threshold", ch, "<", t))
        if params.get("mask_threshold") is not None:
            uses.append(("mask_threshold", ch, ">" if invert else "<",
                         float(params["mask_threshold"])))  # fmt: skip
    elif decoder == "cc":
        uses.append(("threshold", int(params.get("channel", 0)), ">", float(params["threshold"])))
    return uses


def channel_ranges(maps: np.ndarray, channels: Sequence[int]) -> dict[int, tuple[float, float]]:
    """``{channel: (min, max)}`` of the finite values of each channel used."""
    out = {}
    for c in sorted(set(channels)):
        if 0 <= c < maps.shape[0]:
            values = np.asarray(maps[c], dtype=np.float32)
            out[c] = (float(np.nanmin(values)), float(np.nanmax(values)))
    return out


def out_of_range(
    uses: Sequence[tuple[str, int, str, float]], ranges: Mapping[int, tuple[float, float]]
) -> str | None:
    """Why a setting is out of the maps' range (first offending threshold), or None."""
    for name, ch, op, t in uses:
        if ch not in ranges:
            continue
        lo, hi = ranges[ch]
        everything = t < lo if op == ">" else t > hi
        nothing = t >= hi if op == ">" else t <= lo
        if everything or nothing:
            what = "every voxel passes" if everything else "no voxel passes"
            return (
                f"{name}: channel {ch} {op} {t:g} lies outside the channel's range "
                f"[{lo:.3g}, {hi:.3g}] ({what})"
            )
    return None
