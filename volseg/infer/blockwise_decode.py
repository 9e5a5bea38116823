"""Decode predicted maps block by block on Dask into one labelling that equals the whole-volume
decode (DESIGN.md, "Blockwise equals whole").

Three routes, all over :class:`volseg.geometry.BlockGrid` (write regions tiling the
volume, read regions = write region + ``halo``; for affinity decoders the default halo
covers the longest offset):

* **Seeded decoders** (``contour_distance`` in watershed mode, ``watershed`` with threshold
  seeds): seeds are labelled globally and each block floods from global seed ids, in rounds
  that pass labels and flood levels across block faces until nothing changes; see
  :mod:`volseg.infer.seeded_decode` for the rounds and the guarantee. Any halo from 1 voxel
  to the block gives the same labels; a larger halo needs fewer rounds.
* **Region-graph decoders** (``agglomerate``, ``mutex_watershed``; rules ``agglomerate`` and
  ``mutex``): blocks decode on their own, then one global region graph over the block
  segments decides which belong together (:mod:`volseg.infer.affinity_stitch`); close to,
  not always equal to, the whole-volume decode (``benchmarks/blockwise_affinity.py``).
* **Connected-components decoders** (``cc``, ``contour_distance`` in cc mode,
  ``affinity_cc``), exact:
  1. *decode*: decode the block's read region, keep the labels of the write region grown by
     one voxel (the seam);
  2. *match*: merge components of 26-neighbours that share a seam voxel
     (:mod:`volseg.infer.stitch`) and count each one's voxels in the write region;
  3. *write*: map the block's ids through the stitched table into the labels node.

Every round stores per-block results as files inside the output node that appear only when
complete (:mod:`volseg.infer.decode_tasks`), so an interrupted run, started again with the
same settings, skips the finished blocks. ``min_instance_size`` is applied to whole
instances, never to block pieces. The scratch is removed and the node flagged complete
(:func:`volseg.io.is_complete`) only at the end, so a partial output never passes for a
finished one.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.geometry import BlockGrid
from volseg.infer.affinity_stitch import RULES, check_reach, decoder_halo, stitch_graph
from volseg.infer.block_flood import seeded_spec
from volseg.infer.decode_tasks import (
    SCRATCH,
    Job,
    decode_block,
    run_tasks,
    stitch_components,
    write_block,
)
from volseg.infer.stitch import output_dtype
from volseg.io import Volume, create_volume, is_complete, mark_complete, open_volume
from volseg.io.blocks import default_chunks
from volseg.io.fingerprint import fingerprint
from volseg.io.guard import canonical
from volseg.io.paths import locate_for_write
from volseg.io.zarr_layout import node_type
from volseg.lock import locks_output

log = logging.getLogger(__name__)

BLOCK_BYTES = 64 * 2**20  # maps read per block (without halo) when no block_shape is given


def check_grid(
    shape: Sequence[int],
    voxel_size: Sequence[float],
    block_shape: int | Sequence[int],
    halo: int | Sequence[int] | None,
    *,
    decoder: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> BlockGrid:
    """The block grid of a blockwise decode; a halo reaching past the neighbouring blocks is
    refused (callers such as ``segment`` check this before predicting anything). Without a
    halo, ``decoder`` and ``params`` pick the default (:func:`decoder_halo`)."""
    if halo is None:
        halo = decoder_halo(voxel_size, decoder, params)
    grid = BlockGrid.make(shape, block_shape, halo, min_halo=1)
    big = [
        h > b and n > b for h, b, n in zip(grid.halo, grid.block_shape, grid.shape, strict=True)
    ]  # the halo reaches past the neighbouring blocks (one block on an axis: no neighbour)
    if any(big):
        raise VolsegError(
            f"halo {grid.halo} is larger than block_shape {grid.block_shape}; use blocks at "
            "least as large as the halo on every axis."
        )
    return grid


def check_decoder(decoder: str, params: Mapping[str, Any], n_channels: int, path: str) -> None:
    """Decoder settings a blockwise decode accepts, checked before any work."""
    _check_decoder(decoder, dict(params), n_channels, path)
    seeded_spec(decoder, dict(params))


def stitch_rule(decoder: str, params: Mapping[str, Any]) -> str:
    """``"seeds"`` (global seeds, :mod:`volseg.infer.seeded_decode`) for seeded decoders,
    ``"agglomerate"`` / ``"mutex"`` (a global region graph over the block segments,
    :mod:`volseg.infer.affinity_stitch`) for ``agglomerate`` / ``mutex_watershed``, and
    ``"any"`` (components sharing a seam voxel, exact) for connected-components decoders
    (``affinity_cc`` included)."""
    if decoder in RULES:
        return RULES[decoder]
    return "seeds" if seeded_spec(decoder, params) is not None else "any"


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else v))


def _default_block(maps: Volume) -> tuple[int, ...]:
    """Whole storage chunks of the maps, about ``BLOCK_BYTES`` of maps per block."""
    from volseg.io.blocks import block_shape, storage_chunks

    unit = storage_chunks(maps.data) or default_chunks(maps.shape, maps.voxel_size, channels=True)
    return block_shape(
        maps.spatial_shape, unit[-3:], itemsize=4 * maps.shape[0], target_bytes=BLOCK_BYTES
    )


def _check_decoder(decoder: str, params: Mapping[str, Any], n_channels: int, path: str) -> None:
    """Fail before anything is written: unknown decoder or option, or a bad value."""
    from volseg.decode import decode

    side = 4
    if params.get("offsets") is not None and decoder in RULES:  # mws needs room for offsets
        from volseg.offsets import longest, parse_offsets

        side = max(side, *(r + 1 for r in longest(parse_offsets(params["offsets"]))))
    try:
        decode(np.zeros((n_channels, side, side, side), dtype=np.float32), decoder, params)
    except VolsegError as exc:
        if "channel" not in str(exc):
            raise
        raise VolsegError(
            f"{path} holds {n_channels} map channels, which decoder {decoder!r} with these "
            f"options cannot read: {exc}"
        ) from None


def _check_maps(maps: Volume, path: str) -> None:
    from volseg.maps import ATTR

    if not np.issubdtype(maps.dtype, np.floating) and (
        maps.dtype != np.uint8 or ATTR not in maps.attrs
    ):
        raise VolsegError(
            f"{path} holds {maps.dtype} maps without a `{ATTR}` quantisation record; expected "
            "float maps or uint8 maps written by volseg."
        )


def _chunks(
    chunks: Any, grid: BlockGrid, voxel_size: Sequence[float], shards: Any
) -> tuple[int, ...]:
    """Output chunks (default: about 64^3 voxels dividing the block); every block must write
    whole chunks, or whole shards when sharded."""
    if chunks is None:
        base = default_chunks(grid.block_shape, voxel_size)
        chunks = tuple(math.gcd(b, c) for b, c in zip(grid.block_shape, base, strict=True))
    unit = shards if shards is not None else chunks
    unit = (unit,) * 3 if isinstance(unit, int) else tuple(unit)
    cut = [b % u and b < n for b, u, n in zip(grid.block_shape, unit, grid.shape, strict=False)]
    if len(unit) != 3 or any(cut):
        what = "shards" if shards is not None else "chunks"
        raise VolsegError(
            f"block_shape {grid.block_shape} must be a multiple of the output {what} {unit} "
            "so that every block writes whole chunks."
        )
    return tuple(chunks) if not isinstance(chunks, int) else (chunks,) * 3


def _prepare_output(
    out_path: Any,
    *,
    maps: Volume,
    grid: BlockGrid,
    signature: dict[str, Any],
    chunks: Any,
    shards: Any,
    overwrite: bool,
) -> tuple[str, str, bool]:
    """Create the labels node and its scratch group, or find an unfinished run to resume.

    Returns ``(store, node key, resumed)``.
    """
    import zarr

    loc = locate_for_write(out_path)
    if loc.fmt != "zarr":
        raise VolsegError(f"blockwise labels are written to zarr, not {loc.label}.")
    node = loc.key or ""
    node_dir = loc.target.joinpath(*node.split("/")) if node else loc.target
    if node_type(node_dir) is not None and not overwrite:
        if is_complete(loc.target, node or None):
            raise VolsegError(
                f"{loc.label} already holds finished labels; use --overwrite to replace them."
            )
        found = zarr.open_group(str(loc.target), path=node, mode="r").attrs.get("volseg") or {}
        started = found.get("blockwise") or {}
        if started != signature:
            differ = sorted(k for k in signature.keys() | started.keys()
                            if started.get(k) != signature.get(k))  # fmt: skip
            what = (
                "another version of the maps (their files changed since)"
                if differ == ["maps_fingerprint"]
                else f"other {', '.join(differ)}"
            )
            raise VolsegError(
                f"{loc.label} holds an unfinished run started with {what}; use --overwrite to "
                "start again."
            )
        if node_type(node_dir / SCRATCH) == "array":
            return str(loc.target), node, True
        overwrite = True  # stopped while finishing: the records are gone, start again
    create_volume(
        loc.target,
        key=loc.key,
        shape=grid.shape,
        dtype=output_dtype(grid.shape),
        chunks=_chunks(chunks, grid, maps.voxel_size, shards),
        shards=shards,
        voxel_size=maps.voxel_size,
        offset=maps.offset,
        kind="labels",
        attrs={"blockwise": signature},
        overwrite=overwrite,
    )
    # A tiny array hosts the block files in its directory, where zarr never looks.
    zarr.open_group(str(loc.target), path=node, mode="r+").create_array(
        SCRATCH, shape=(1,), dtype="int8", fill_value=0,
        attributes={"volseg": "scratch of an unfinished blockwise decode; see blocks/"},
    )  # fmt: skip
    return str(loc.target), node, False


def _finish(job: Job, result: dict[str, Any]) -> None:
    import zarr

    group = zarr.open_group(job.store, path=job.node, mode="r+")
    group.attrs["volseg"] = {**(group.attrs.get("volseg") or {}), "blockwise_result": result}
    shutil.rmtree(job.scratch_dir)
    mark_complete(job.store, job.node or None)


def reuse_line(result: Mapping[str, Any]) -> str:
    """How much of a blockwise decode ran and how much an interrupted run had finished."""
    line = f"decode blocks: {result['blocks_computed']} computed, {result['blocks_reused']} reused"
    if "floods_reused" in result:  # seeded route: the flood tasks after the seed blocks
        line += f"; flood tasks: {result['blocks_decoded']} run, {result['floods_reused']} reused"
    return line


@locks_output("out_path")
def blockwise_decode(
    maps_path: str | Path,
    out_path: str | Path,
    *,
    decoder: str = "contour_distance",
    params: Mapping[str, Any] | None = None,
    block_shape: int | Sequence[int] | None = None,
    halo: int | Sequence[int] | None = None,
    client: Any = None,
    overwrite: bool = False,
    chunks: int | Sequence[int] | None = None,
    shards: int | Sequence[int] | None = None,
    max_rounds: int | None = None,
) -> Volume:
    """Decode maps block by block and stitch the blocks into one OME-Zarr label image.

    Args:
        maps_path: float32 or volseg-quantised uint8 maps (c, z, y, x), readable by every
            worker (e.g. ``pred.zarr:maps``).
        out_path: labels node, e.g. ``seg.zarr:labels/segmentation`` or ``labels.zarr``.
        decoder: a name from :data:`volseg.decode.DECODERS`.
        params: decoder options (as for :func:`volseg.decode.decode`).
        block_shape: write-region shape per task, a multiple of the output chunks/shards
            (default: whole maps chunks, about 64 MB of maps per block).
        halo: context voxels per side (default :func:`~volseg.infer.affinity_stitch.decoder_halo`).
        client: a ``distributed.Client``; None runs on threads in this process.
        overwrite: replace an existing output (a finished or unfinished one).
        chunks: output chunk shape (default: divides ``block_shape``, about 64^3).
        shards: output shard shape (zarr v3), or None.
        max_rounds: seeded decoders only: cap on the flood rounds (see
            :func:`volseg.infer.seeded_decode.seeded_rounds`).

    Returns:
        The finished labels, opened lazily (uint32; uint64 for volumes of 2**32 voxels).

    Raises:
        VolsegError: bad maps, decoder, options or geometry; an existing finished output
            (without ``overwrite``); an unfinished one started with other settings; another process
            writing ``out_path``.
    """
    maps_path = str(maps_path)
    maps = open_volume(maps_path, ndim=4)
    _check_maps(maps, maps_path)
    params = dict(params or {})
    _check_decoder(decoder, params, maps.shape[0], maps_path)
    spec = seeded_spec(decoder, params)
    min_size = int(params.pop("min_instance_size", 0) or 0)
    if block_shape is None:
        block_shape = _default_block(maps)
    grid = check_grid(maps.spatial_shape, maps.voxel_size, block_shape, halo, decoder=decoder,
                      params=params)  # fmt: skip
    rule = stitch_rule(decoder, params)
    if rule == "agglomerate" and params.get("merge_function") == "quantile":
        log.warning(
            "blockwise quantile agglomeration merges tied scores in another order than the "
            "whole-volume decode (ARE 0.25-0.28 between the two on NeuroProof, "
            "benchmarks/results/blockwise_affinity.json); merge_function mean agrees to ARE 4e-6."
        )
    signature = _plain({
        "maps": canonical(maps_path), "maps_fingerprint": fingerprint(maps_path),
        "maps_shape": list(maps.shape), "maps_dtype": str(maps.dtype), "decoder": decoder,
        "params": params, "min_instance_size": min_size, "block_shape": list(grid.block_shape),
        "halo": list(grid.halo), "rule": rule, "chunks": chunks, "shards": shards,
    })  # fmt: skip
    maps.close()
    store, node, resumed = _prepare_output(
        out_path, maps=maps, grid=grid, signature=signature, chunks=chunks, shards=shards,
        overwrite=overwrite,
    )  # fmt: skip
    job = Job(maps_path, store, node, grid, decoder, params, rule, uuid.uuid4().hex)
    if rule in RULES.values():
        check_reach(job)
    try:
        _decode_job(job, spec, min_size=min_size, resumed=resumed, max_rounds=max_rounds,
                    client=client)  # fmt: skip
    except VolsegError:  # bad maps found while reading: leave nothing half-written behind
        if not resumed:
            _discard(store, node)
        raise
    return open_volume(out_path)


def _discard(store: str, node: str) -> None:
    """Delete the labels node this run created (never a finished one)."""
    from volseg.atomic import remove

    if not is_complete(store, node or None):
        remove(Path(store).joinpath(*node.split("/")) if node else Path(store))


def _decode_job(job: Job, spec: Any, *, min_size: int, resumed: bool, max_rounds: int | None,
                client: Any) -> None:  # fmt: skip
    """Decode, stitch and write every block of ``job`` (resuming its records)."""
    grid = job.grid
    if spec is not None:
        from volseg.infer.seeded_decode import seeded_rounds

        log.debug("decoding %d blocks from global seeds (%s)", len(grid), "resumed" * resumed)
        result = seeded_rounds(job, spec, max_rounds=max_rounds, client=client)
        _finish(job, _plain(result))
        return
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    ran = job.run(decode_block, stage="blocks", client=client)
    log.debug("decoded %d of %d blocks, %d reused", ran.computed, len(grid), ran.reused)
    done = job.finished()
    seconds["decode"] = time.perf_counter() - start
    start = time.perf_counter()
    if job.rule in RULES.values():
        tables, counts = stitch_graph(job, done, min_size=min_size, client=client)
    else:
        tables, counts = stitch_components(job, done, stage="blocks", min_size=min_size,
                                           client=client)  # fmt: skip
    seconds["stitch"] = time.perf_counter() - start
    start = time.perf_counter()
    run_tasks(write_block, [(job, i, tables[i]) for i in range(len(grid))], client)
    seconds["write"] = time.perf_counter() - start
    result = {
        **counts, "blocks": len(grid), "blocks_decoded": ran.computed,
        "blocks_computed": ran.computed, "blocks_reused": ran.reused, "seconds": seconds,
    }  # fmt: skip
    _finish(job, _plain(result))
    log.debug("stitched %d block segments into %d instances", counts["block_segments"],
             counts["instances"])  # fmt: skip
