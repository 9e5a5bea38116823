"""Synthetic vesicle volumes of any size, written tile by tile (``volseg synth vesicles --tile``).

:func:`volseg.data.synth.vesicles` builds a whole volume in memory. For volumes larger than
memory, :func:`write_vesicle_tiles` tiles the volume with boxes of ``tile`` voxels and fills
each with its own :func:`~volseg.data.synth.vesicles` call, so only one tile is ever held:

* **Deterministic per tile.** Tile ``k`` (C order over the tile grid) is generated from a seed
  derived from ``(seed, k)`` alone, so any tile can be regenerated without the others and the
  same arguments give identical bytes.
* **Objects and tile borders.** Every vesicle lies wholly inside its tile (``vesicles`` places
  them fully inside the volume it makes), so no object crosses a tile border and none is cut:
  the labels are consistent across tiles by construction. Ids are global: the ids of tile
  ``k`` follow those of tiles ``0..k-1``. Only the background texture is independent per
  tile (a grey-level seam at tile borders; nothing is labelled there).
* **Writes align** with the stored chunks, which divide the tile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from volseg.errors import VolsegError

CHUNK = (32, 128, 128)  # upper bound of the stored chunks (they divide the tile)


def tile_seed(seed: int, index: int) -> int:
    """The seed of tile ``index`` of a volume made with ``seed``."""
    return int(np.random.SeedSequence((int(seed), int(index))).generate_state(1)[0])


def tile_grid(shape: Sequence[int], tile: Sequence[int]) -> tuple[int, int, int]:
    """Tiles per axis; the shape must be a whole number of tiles."""
    if any(s % t for s, t in zip(shape, tile, strict=True)):
        raise VolsegError(
            f"shape {tuple(shape)} must be a whole number of tiles {tuple(tile)} on every axis."
        )
    return tuple(s // t for s, t in zip(shape, tile, strict=True))  # type: ignore[return-value]


def write_vesicle_tiles(
    out: str | Path,
    *,
    shape: Sequence[int],
    tile: Sequence[int],
    voxel_size: Sequence[float],
    seed: int = 0,
    density: float = 0.02,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write image (root), ``labels/vesicles`` and ``labels/mask`` of a tiled vesicle volume.

    Args:
        out: OME-Zarr store to create (it must not exist).
        shape: ``(z, y, x)`` voxels, a whole number of tiles.
        tile: ``(z, y, x)`` voxels per tile (large enough for one vesicle, see ``vesicles``).
        voxel_size: ``(z, y, x)`` nm.
        seed: base seed (tile ``k`` uses :func:`tile_seed`).
        density: vesicle fraction per tile.
        say: progress lines (one per tile), or None.

    Returns:
        ``{"vesicles": n, "tiles": n_tiles, "covered": fraction of vesicle voxels}``.
    """
    from volseg.data.synth import vesicles
    from volseg.io import create_volume, mark_complete

    shape = tuple(int(s) for s in shape)
    tile = tuple(int(t) for t in tile)
    grid = tile_grid(shape, tile)
    chunks = tuple(math.gcd(t, c) for t, c in zip(tile, CHUNK, strict=True))
    attrs = {"synth": {"kind": "vesicles", "seed": seed, "density": density, "tile": tile}}
    nodes = {
        None: create_volume(out, shape=shape, dtype=np.uint8, chunks=chunks,
                            voxel_size=voxel_size, kind="image", attrs=attrs),
        "labels/vesicles": create_volume(out, key="labels/vesicles", shape=shape,
                                         dtype=np.uint32, chunks=chunks,
                                         voxel_size=voxel_size, kind="labels"),
        "labels/mask": create_volume(out, key="labels/mask", shape=shape, dtype=bool,
                                     chunks=chunks, voxel_size=voxel_size, kind="mask"),
    }  # fmt: skip
    next_id = 0
    covered = 0
    for k, index in enumerate(np.ndindex(*grid)):
        raw, labels, mask = vesicles(
            shape=tile, voxel_size=voxel_size, seed=tile_seed(seed, k), density=density
        )
        n = int(labels.max())
        if next_id + n >= 2**32 - 1:
            raise VolsegError(f"{shape} holds more vesicles than uint32 ids can number.")
        labels[labels > 0] += np.uint32(next_id)
        region = tuple(slice(i * t, (i + 1) * t) for i, t in zip(index, tile, strict=True))
        for key, data in ((None, raw), ("labels/vesicles", labels), ("labels/mask", mask)):
            nodes[key].data[region] = data
        next_id += n
        covered += int(np.count_nonzero(labels))
        if say is not None:
            say(f"tile {k + 1}/{math.prod(grid)} {index}: {n} vesicles")
    for volume in nodes.values():
        mark_complete(volume)
    return {"vesicles": next_id, "tiles": math.prod(grid), "covered": covered / math.prod(shape)}
