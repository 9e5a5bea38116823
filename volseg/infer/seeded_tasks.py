"""The block tasks of the exact route for seeded decoders (:mod:`volseg.infer.seeded_decode`).

Like :mod:`volseg.infer.decode_tasks`, each task takes the picklable :class:`Job`, reads what
it needs from disk and writes its result there (block files moved into place when complete,
so an interrupted run keeps its finished blocks). Rounds:

* :func:`seed_block` - connected components of the seed mask on the block's seam region,
  stored per block (stage ``seeds``); matched across faces with the exact ``"any"`` rule.
* :func:`write_seeds` - global seed ids of the write region into the scratch seed array.
* :func:`flood_block` - the flood of the read region from the global seeds and the
  neighbours' labels and levels on its cut faces (stage ``flood``), repeated while they
  change, in waves of blocks that do not read each other's states. What a flood reads
  that no round changes (height, foreground, global seeds of the read region) is stored
  per block by its first flood (:func:`flood_inputs`), and of the neighbours' states only
  the voxels on the read region's cut faces are read.
* :func:`tally_block` / :func:`write_final` - voxels per global id, then the final ids.
"""

from __future__ import annotations

import math
import mmap
import os
from pathlib import Path
from typing import Any

import cc3d
import fastremap
import numpy as np

from volseg import geometry
from volseg.atomic import atomic_write
from volseg.errors import VolsegError
from volseg.infer.block_flood import SeededSpec, pieces, ring_flood
from volseg.infer.decode_tasks import SUFFIX, Job, _maps

SEEDS_ARRAY = "seeds.zarr"  # inside the scratch directory
INPUTS = "inputs"  # scratch folder of the flood's fixed inputs per block (flood_inputs)


def read_maps(job: Job, region: geometry.Box) -> np.ndarray:
    """Float maps of a region (uint8 maps dequantised as the whole-volume route does)."""
    from volseg.maps import dequantize

    volume = _maps(job.maps, job.token)
    raw = np.asarray(volume.data[(slice(None), *region.slices)])
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
    local = job.labels_of(block_id, "seeds")[block.write.relative_to(block.seam).slices]
    array = zarr.open_array(seeds_path(job), mode="r+")
    array[block.write.slices] = lut[local].astype(array.dtype, copy=False)


def state_dtype(labels: np.dtype) -> np.dtype:
    """A block's stored flood state: label and level of every write-region voxel."""
    return np.dtype([("label", labels), ("level", np.float32)])


_HEADERS: dict[bytes, tuple[tuple[int, ...], bool, np.dtype]] = {}  # parsed .npy headers


def _state(job: Job, block_id: int) -> np.ndarray | None:
    """A block's stored flood state, mapped from its file (read only where sliced), or None
    before its first flood. The file is ``Job.save_labels``'s: an 8-byte count, then a raw
    ``.npy`` (version 1.0 header, parsed once per distinct header and process)."""
    path = os.path.join(job.scratch_dir, "flood", f"{block_id}{SUFFIX}")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return None
    with f:
        head = f.read(18)  # count, magic, version, header length
        if head[14:16] != b"\x01\x00":
            raise VolsegError(f"{path} is not a flood state of this volseg version.")
        size = 18 + int.from_bytes(head[16:18], "little")
        header = f.read(size - 18)
        if header not in _HEADERS:
            f.seek(8)
            np.lib.format.read_magic(f)
            _HEADERS[header] = np.lib.format.read_array_header_1_0(f)
        shape, fortran, dtype = _HEADERS[header]
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    array = np.frombuffer(data, dtype, count=math.prod(shape), offset=size)
    return array.reshape(shape, order="F" if fortran else "C")


def _faces(
    box: geometry.Box, read: geometry.Box, cut: tuple[tuple[bool, bool], ...]
) -> list[geometry.Box]:
    """The parts of ``box`` (inside ``read``) on the cut faces of ``read``: the only voxels
    of the outside that :func:`~volseg.infer.block_flood.ring_flood` uses."""
    out = []
    for axis, (low, high) in enumerate(cut):
        for is_cut, plane in ((low, read.offset[axis]), (high, read.end[axis] - 1)):
            if is_cut and box.offset[axis] <= plane < box.end[axis]:
                start, stop = list(box.offset), list(box.end)
                start[axis], stop[axis] = plane, plane + 1
                out.append(geometry.Box.from_bounds(start, stop))
    return out


def _outside(job: Job, block: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Labels and levels on the cut faces of the block's read region from its neighbours'
    stored states (everything else left empty: only the cut faces are used)."""
    grid = job.grid
    shape = block.read.shape
    cut = block.read.cut_faces(grid.shape)
    labels = levels = None
    for other in grid.neighbours(block):
        box = block.read.intersect(other.write)
        faces = [] if box is None else _faces(box, block.read, cut)
        state = _state(job, other.id) if faces else None
        if state is None:
            continue
        if labels is None:
            labels = np.zeros(shape, state.dtype["label"])
            levels = np.full(shape, np.inf, np.float32)
        for face in faces:
            part = np.asarray(state[face.relative_to(other.write).slices])
            labels[face.relative_to(block.read).slices] = part["label"]
            levels[face.relative_to(block.read).slices] = part["level"]
    return None if labels is None else (labels, levels)


def _inputs_file(job: Job, block_id: int) -> Path:
    return job.scratch_dir / INPUTS / f"{block_id}.npy"


def flood_inputs(
    job: Job, spec: SeededSpec, block: Any
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Flood height, foreground (None = all) and global seeds of a block's read region.

    They do not change between flood rounds, so the first flood of a block stores them in
    one uncompressed file (``inputs/<id>.npy``: three arrays, an empty foreground for None)
    and later rounds read that instead of the maps and seeds: read-region voxels times 3 to
    9 bytes per block on disk, removed with the flood stage; nothing is kept in memory."""
    import zarr

    path = _inputs_file(job, block.id)
    if path.is_file():
        with open(path, "rb") as f:
            height, foreground, seeds = (np.load(f, allow_pickle=False) for _ in range(3))
        return height, (foreground if foreground.size else None), seeds
    p = pieces(read_maps(job, block.read), spec)
    seeds = np.asarray(zarr.open_array(seeds_path(job), mode="r")[block.read.slices])
    foreground = np.zeros(0, bool) if p.foreground is None else p.foreground

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            for array in (p.height, foreground, seeds):
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)

    atomic_write(path, write)
    return p.height, p.foreground, seeds


def save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` under a temporary name, then moved into place."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.save(f, array, allow_pickle=False)

    atomic_write(path, write)


def round_dir(job: Job, step: int) -> Path:
    """Where the flood tasks of one wave leave their done-records."""
    return job.scratch_dir / "flood" / f"wave{step}"


def round_records(job: Job, step: int) -> dict[int, list[int]]:
    """The blocks that finished a wave, with the blocks whose inputs they changed."""
    folder = round_dir(job, step)
    out: dict[int, list[int]] = {}
    for path in folder.glob("*.npy") if folder.is_dir() else ():
        if path.name.startswith("."):
            continue
        out[int(path.stem)] = [int(i) for i in np.load(path, allow_pickle=False)]
    return out


def flood_block(job: Job, spec: SeededSpec, block_id: int, step: int) -> list[int]:
    """Round 3 (repeated): flood the block's read region from the global seeds and from its
    neighbours' stored states on its cut faces; store the write region's labels and levels,
    and a done-record of the wave ``step``. Returns the neighbours whose inputs changed: those
    with a changed voxel on a cut face of their read region. A block none of whose inputs
    changed since its last flood would flood to the same state, so only these flood again."""
    readers = _flood(job, spec, block_id)
    save_npy(round_dir(job, step) / f"{block_id}.npy", np.array(readers, np.int64))
    return readers


def _flood(job: Job, spec: SeededSpec, block_id: int) -> list[int]:
    grid = job.grid
    block = grid.block(block_id)
    height, foreground, seeds = flood_inputs(job, spec, block)
    labels, levels = ring_flood(
        height, seeds, foreground, connectivity=spec.connectivity,
        cut=block.read.cut_faces(grid.shape),
        outside=_outside(job, block),
    )  # fmt: skip
    state = np.empty(block.write.shape, state_dtype(labels.dtype))
    state["label"] = labels[block.inner.slices]
    state["level"] = levels[block.inner.slices]
    diff = np.ones(state.shape, dtype=bool)
    old = _state(job, block_id)
    if old is not None and old.dtype == state.dtype:
        diff = old != state
    if not diff.any():
        return []
    job.save_labels(block_id, state, 0, stage="flood")
    return _readers(grid, block, diff)


def _readers(grid: Any, block: Any, diff: np.ndarray) -> list[int]:
    """The neighbours that read a changed voxel (``diff`` over the block's write region):
    one on a cut face of their read region (what :func:`_outside` reads)."""
    out = []
    for other in grid.neighbours(block):
        box = other.read.intersect(block.write)
        if box is None:
            continue
        faces = _faces(box, other.read, other.read.cut_faces(grid.shape))
        if any(diff[face.relative_to(block.write).slices].any() for face in faces):
            out.append(other.id)
    return out


def tally_block(job: Job, block_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Round 4: the global seed ids in the block's write region and their voxel counts."""
    labels = np.ascontiguousarray(job.labels_of(block_id, "flood")["label"])
    return fastremap.unique(labels, return_counts=True)


def write_final(job: Job, block_id: int, lut: Any) -> None:
    """Round 5: the final ids (``lut[seed id]``) into the labels node."""
    import zarr

    block = job.grid.block(block_id)
    labels = job.labels_of(block_id, "flood")["label"]
    array = zarr.open_array(job.store, path=f"{job.node}/s0" if job.node else "s0", mode="r+")
    array[block.write.slices] = np.asarray(lut)[labels].astype(array.dtype, copy=False)
