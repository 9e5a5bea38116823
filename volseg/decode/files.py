"""Decoding maps held in files: open maps and labels, decode, write the labels.

The ``volseg decode`` workflow (the CLI only parses options and calls :func:`decode_file`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from volseg.errors import VolsegError


def load_maps(path: str) -> tuple[np.ndarray, Any]:
    """Open predicted maps and return ``(float32 maps, volume)``."""
    from volseg.io import open_volume
    from volseg.maps import dequantize

    volume = open_volume(path)
    if volume.ndim != 4:
        raise VolsegError(
            f"{path} must hold channel-first maps (c, z, y, x); got shape {volume.shape}."
        )
    return dequantize(volume.numpy(), volume.attrs, source=path), volume


def load_labels(path: str, *, name: str) -> Any:
    """Open a (z, y, x) label or mask volume lazily."""
    from volseg.io import open_volume

    volume = open_volume(path)
    if volume.ndim != 3:
        raise VolsegError(f"{name} {path} must be a (z, y, x) volume; got shape {volume.shape}.")
    return volume


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def decode_file(
    pred: str,
    *,
    out: str,
    name: str,
    params: dict[str, Any],
    source: str,
    overwrite: bool,
    say: Callable[[str], None] = print,
) -> np.ndarray:
    """Decode the maps in ``pred`` with decoder ``name`` and write the labels to ``out``."""
    from volseg.decode.registry import decode
    from volseg.io import write_volume

    say(f"decoder {name} with settings from {source}: {params}")
    maps, volume = load_maps(pred)
    start = time.perf_counter()
    labels = decode(maps, name, params)
    seconds = time.perf_counter() - start
    n = int(np.count_nonzero(np.unique(labels)))
    attrs = {"volseg_decoder": {"name": name, "params": _plain(params), "source": source}}
    write_volume(out, labels, voxel_size=volume.voxel_size, offset=volume.offset, kind="labels",
                 attrs=attrs, overwrite=overwrite)  # fmt: skip
    rate = labels.size / max(seconds, 1e-9) / 1e6
    say(f"wrote {n} instances to {out} ({seconds:.2f} s, {rate:.1f} M voxels/s)")
    return labels
