"""The block tasks of the exact route for seeded decoders (:mod:`volseg.infer.seeded_decode`).

Like :mod:`volseg.infer.decode_tasks`, each task takes the picklable :class:`Job`, reads what
it needs from disk and writes its result there (block files moved into place when complete,
so an interrupted run keeps its finished blocks). Rounds:

* :func:`seed_block` - connected components of the seed mask on the block's seam region,
  stored per block (stage ``seeds``); matched across faces with the exact ``"any"`` rule.
* :func:`write_seeds` - global seed ids of the write region into the scratch seed array.
* :func:`flood_block` - the certified flood of the read region (stage ``flood``), the halo
  doubled until every write-region voxel is certain or the halo reaches its cap.
* :func:`tally_block` / :func:`write_final` - voxels per global id, then the final ids.
"""

from __future__ import annotations

import logging
from typing import Any

import cc3d
import fastremap
import numpy as np

from volseg.infer.block_decoder import cut_faces
from volseg.infer.block_flood import SeededSpec, certified_flood, pieces
from volseg.infer.blocks import Region, relative
from volseg.infer.decode_tasks import Job, _maps

log = logging.getLogger(__name__)

SEEDS_ARRAY = "seeds.zarr"  # inside the scratch directory


def read_maps(job: Job, region: Region) -> np.ndarray:
    """Float maps of a region (uint8 maps dequantised as the whole-volume route does)."""
    from volseg.maps import dequantize

    volume = _maps(job.maps, job.token)
    raw = np.asarray(volume.data[(slice(None), *region)])
    return dequantize(raw, volume.attrs, source=job.maps)


def seeds_path(job: Job) -> str:
    return str(job.scratch_dir / SEEDS_ARRAY)


def create_seeds(job: Job, n_seeds: int) -> None:
    """The scratch array of global seed ids (one chunk per block, so writes never share)."""
    import zarr

    dtype = np.uint32 if n_seeds + 1 < 2**32 - 1 else np.uint64
    zarr.create_array(
        store=seeds_path(job), shape=job.grid.shape, chunks=job.grid.block_shape, dtype=dtype,
        fill_value=0, overwrite=True,
    )  # fmt: skip


def seed_block(job: Job, spec: SeededSpec, block_id: int) -> int:
    """Round 1: seed components of the seam region; store them; return their count."""
    block = job.grid.block(block_id)
    mask = pieces(read_maps(job, block.seam), spec, need_height=False).seed_mask
    labels, n = cc3d.connected_components(
        mask, connectivity=spec.seed_connectivity, return_N=True, out_dtype=np.uint32
    )
    job.save_labels(block_id, labels, int(n), stage="seeds")
    return int(n)


def write_seeds(job: Job, block_id: int, lut: np.ndarray) -> None:
    """Round 2: the block's global seed ids (``lut[local]``) into the seed array."""
    import zarr

    block = job.grid.block(block_id)
    local = job.labels_of(block_id, "seeds")[relative(block.write, block.seam)]
    array = zarr.open_array(seeds_path(job), mode="r+")
    array[block.write] = lut[local].astype(array.dtype, copy=False)


def _grow(write: Region, halo: tuple[int, ...], shape: tuple[int, ...]) -> Region:
    return tuple(
        slice(max(0, r.start - h), min(n, r.stop + h))
        for r, h, n in zip(write, halo, shape, strict=True)
    )


def flood_block(job: Job, spec: SeededSpec, block_id: int, max_halo: tuple[int, ...]) -> int:
    """Round 3: flood the block from global seeds, with a larger halo while some voxel is
    uncertain; store the write region's seed ids; return the uncertain voxels left (0 once
    the halo sufficed; more only where the halo reached ``max_halo``)."""
    import zarr

    grid = job.grid
    block = grid.block(block_id)
    seeds_array = zarr.open_array(seeds_path(job), mode="r")
    halo = grid.halo
    while True:
        read = _grow(block.write, halo, grid.shape)
        p = pieces(read_maps(job, read), spec)
        seeds = np.asarray(seeds_array[read])
        cut = cut_faces(read, grid.shape)
        labels, uncertain = certified_flood(
            p.height, seeds, p.foreground, connectivity=spec.connectivity, cut=cut,
            inner=relative(block.write, read),
        )  # fmt: skip
        if uncertain == 0 or not any(low or high for low, high in cut) or halo == max_halo:
            break
        halo = tuple(min(2 * h, m) for h, m in zip(halo, max_halo, strict=True))
    if uncertain:
        log.warning("block %s: %d voxels uncertain at halo %s", block.index, uncertain, halo)
    job.save_labels(block_id, np.ascontiguousarray(labels), uncertain, stage="flood")
    return uncertain


def tally_block(job: Job, block_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Round 4: the global seed ids in the block's write region and their voxel counts."""
    return fastremap.unique(job.labels_of(block_id, "flood"), return_counts=True)


def write_final(job: Job, block_id: int, lut: Any) -> None:
    """Round 5: the final ids (``lut[seed id]``) into the labels node."""
    import zarr

    block = job.grid.block(block_id)
    labels = job.labels_of(block_id, "flood")
    array = zarr.open_array(job.store, path=f"{job.node}/s0" if job.node else "s0", mode="r+")
    array[block.write] = np.asarray(lut)[labels].astype(array.dtype, copy=False)
