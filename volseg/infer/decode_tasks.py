"""The three rounds of block tasks behind :func:`volseg.infer.blockwise_decode`.

Each task gets a small picklable :class:`Job` and a block id, reads what it needs from disk
and writes its result there, so it runs the same on a thread, a local process or a cluster
worker (the output store must be on a file system every worker sees).

A decoded block is one file ``<node>/_volseg_blocks/blocks/<id>.npy.z``: its segment count
(8 bytes) and its zlib-compressed labels, moved into place only when complete. The blocks of
the decode and seed rounds run through :func:`volseg.infer.run_blocks.run_blocks`, which
records each finished block (with its count) in ``_volseg_blocks/done/<stage>``, a marker
array, only after its file is in place. ``_volseg_blocks`` is a tiny zarr array: zarr never
looks inside an array's directory, so the scratch files do not disturb readers of the store.
"""

from __future__ import annotations

import functools
import io
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import atomic_write
from volseg.errors import VolsegError
from volseg.geometry import BlockGrid
from volseg.infer.run_blocks import BlockCounts, Records, run_blocks
from volseg.infer.stitch import match_segments
from volseg.io import Volume, open_volume

SCRATCH = "_volseg_blocks"
SUFFIX = ".npy.z"


@dataclass(frozen=True)
class Job:
    """Everything a block task needs (small and picklable, sent to every worker)."""

    maps: str
    store: str
    node: str
    grid: BlockGrid
    decoder: str
    params: dict[str, Any]
    rule: str
    token: str  # unique per run: keys the per-process cache of the opened maps

    @property
    def scratch_dir(self) -> Path:
        return Path(self.store).joinpath(*self.node.split("/"), SCRATCH)

    def block_file(self, block_id: int, stage: str = "blocks") -> Path:
        return self.scratch_dir / stage / f"{block_id}{SUFFIX}"

    def save_labels(
        self, block_id: int, labels: np.ndarray, n_segments: int, stage: str = "blocks"
    ) -> None:
        """Store a block's segment count and labels of one round (under a temporary name
        first, so a file present is a finished block). Integer labels are compressed;
        the flood state (labels with float levels) is stored raw, as it is read often."""

        def write(tmp: str) -> None:
            buffer = io.BytesIO()
            np.save(buffer, labels, allow_pickle=False)
            payload = buffer.getbuffer()
            if labels.dtype.names is None:
                payload = zlib.compress(payload, 1)
            Path(tmp).write_bytes(int(n_segments).to_bytes(8, "little") + payload)

        atomic_write(self.block_file(block_id, stage), write)

    def labels_of(self, block_id: int, stage: str = "blocks") -> np.ndarray:
        """The stored labels of a block (seam region: write region + 1 voxel, for the
        rounds that stitch; write region for the seeded flood)."""
        data = self.block_file(block_id, stage).read_bytes()[8:]
        if not data.startswith(b"\x93NUMPY"):
            data = zlib.decompress(data)
        return np.load(io.BytesIO(data), allow_pickle=False)

    def records(self, stage: str = "blocks") -> Records:
        """The done-records of a round's blocks (:mod:`volseg.infer.run_blocks`)."""
        return Records(str(self.scratch_dir / "done"), stage)

    def finished(self, stage: str = "blocks") -> dict[int, int]:
        """Recorded count (segments) of every finished block of a round."""
        return self.records(stage).done()

    def run(self, task: Callable[..., int], *args: Any, stage: str, client: Any) -> BlockCounts:
        """``task(self, *args, block_id)`` for every block of the grid without a record of
        ``stage``; each block is recorded with the count it returns."""
        records = self.records(stage)
        records.create((len(self.grid),))
        ids = range(len(self.grid))
        label = f"decode: {stage.replace('_', ' ')}"
        return run_blocks(ids, task, records, args=(self, *args), client=client, label=label)


@functools.lru_cache(maxsize=4)
def _maps(path: str, token: str) -> Volume:
    """The maps, opened once per process and run (zarr reads are thread-safe)."""
    return open_volume(path)


def decode_block(job: Job, block_id: int) -> int:
    """Round 1: decode one block with its halo; store its seam labels; return the count."""
    from volseg.decode import decode
    from volseg.maps import dequantize

    block = job.grid.block(block_id)
    volume = _maps(job.maps, job.token)
    raw = np.asarray(volume.data[(slice(None), *block.read.slices)])
    maps = dequantize(raw, volume.attrs, source=job.maps)
    labels = decode(maps, job.decoder, block_params(job))
    n = int(labels.max(initial=0))
    if n >= 2**32:
        raise VolsegError(f"block {block.index} has {n} segments; block-local ids need < 2**32.")
    seam = labels[block.seam.relative_to(block.read).slices]
    job.save_labels(block_id, np.ascontiguousarray(seam, dtype=np.uint32), n)
    return n


def block_params(job: Job) -> dict[str, Any]:
    """The decoder settings of a block: the job's, except that blocks of the ``agglomerate``
    rule stop at the watershed fragments (threshold 0), since a merge made in one block
    cannot be undone by the global region graph."""
    if job.rule == "agglomerate":
        return {**job.params, "threshold": 0.0}
    return job.params


def match_block(
    job: Job, block_id: int, bases: np.ndarray, n_segments: int, stage: str = "blocks"
) -> tuple[np.ndarray, np.ndarray]:
    """Round 2: merge pairs (provisional global ids ``bases[block] + local``) with the forward
    neighbours, and the voxels of each local id ``0..n_segments`` in the write region."""
    grid = job.grid
    block = grid.block(block_id)
    mine = job.labels_of(block_id, stage)
    pairs = [np.zeros((0, 2), dtype=np.int64)]
    for other in grid.forward_neighbours(block):
        boxes = grid.overlap(block, other, width=1)
        if not boxes:
            continue
        theirs = job.labels_of(other.id, stage)
        a = np.concatenate([mine[box.relative_to(block.seam).slices].ravel() for box in boxes])
        b = np.concatenate([theirs[box.relative_to(other.seam).slices].ravel() for box in boxes])
        found = match_segments(a, b)
        pairs.append(found + np.array([bases[block.id], bases[other.id]], dtype=np.int64))
    inside = mine[block.write.relative_to(block.seam).slices]
    counts = np.bincount(inside.ravel(), minlength=n_segments + 1).astype(np.int64)
    return np.concatenate(pairs), counts


def write_block(job: Job, block_id: int, lut: np.ndarray) -> None:
    """Round 3: write a block's final ids (``lut[local]``) into the labels node."""
    import zarr

    block = job.grid.block(block_id)
    local = job.labels_of(block_id)[block.write.relative_to(block.seam).slices]
    array = zarr.open_array(job.store, path=f"{job.node}/s0" if job.node else "s0", mode="r+")
    array[block.write.slices] = lut[local].astype(array.dtype, copy=False)


def block_bases(done: dict[int, int], n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Segment count of every block and the base of its provisional global ids
    (``base[block] + local id``), both int64."""
    counts = np.array([done[i] for i in range(n_blocks)], dtype=np.int64)
    return counts, np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)


def stitch_components(
    job: Job, done: dict[int, int], *, stage: str, min_size: int, client: Any = None
) -> tuple[list[np.ndarray], dict[str, int]]:
    """Join the blocks' components (``done``: block id -> count, files of ``stage``) into
    global ids 1..N, whole components under ``min_size`` voxels dropped.

    Returns:
        One look-up table per block (local id -> global id) and counts for the result record
        (``instances``, ``block_segments``, ``merge_pairs``).
    """
    from volseg.infer.stitch import final_ids, merge_components

    n_blocks = len(job.grid)
    counts, bases = block_bases(done, n_blocks)
    calls = [(job, i, bases, int(counts[i]), stage) for i in range(n_blocks)]
    matched = run_tasks(match_block, calls, client)
    n_ids = int(counts.sum())
    sizes = np.zeros(n_ids + 1, dtype=np.int64)
    for i, (_, block_counts) in enumerate(matched):
        sizes[bases[i] + 1 : bases[i] + counts[i] + 1] = block_counts[1 : counts[i] + 1]
    pairs = np.concatenate([p for p, _ in matched])
    lut, n = final_ids(merge_components(pairs, n_ids), sizes, min_size=min_size)
    tables = [
        np.concatenate([[0], lut[bases[i] + 1 : bases[i] + counts[i] + 1]]).astype(lut.dtype)
        for i in range(n_blocks)
    ]
    return tables, {"instances": n, "block_segments": n_ids, "merge_pairs": int(len(pairs))}


def run_tasks(fn: Callable[..., Any], calls: Sequence[tuple], client: Any = None) -> list[Any]:
    """Run ``fn(*args)`` for every args tuple, one task each: on ``client`` (distributed)
    or on threads; results in call order (:func:`volseg.infer.run_blocks.settled_map`)."""
    from volseg.infer.run_blocks import settled_map

    return settled_map(fn, calls, client, label=f"decode: {fn.__name__.replace('_', ' ')}")
