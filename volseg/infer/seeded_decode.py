"""The exact route of :func:`volseg.infer.blockwise_decode` for seeded decoders.

**Blockwise equals whole** (DESIGN.md). For ``contour_distance`` in watershed mode and
``watershed`` with threshold seeds, the labels equal those of the whole-volume decode of the
same maps, up to renumbering, at any block shape and halo (halo >= 1, at most the block),
when the flood rounds converge (the result records ``converged``; the rounds are capped) and
wherever flood levels have no ties; on a tie the whole-volume flood breaks it by queue order,
which a block reproduces only for the part of the queue it sees. Seeds and ids are global, so
a block's missing context can only give a voxel another instance's id: it never chains two
instances into one.

1. **Seeds, globally.** Each block labels the connected components of its seed mask on its
   write region grown by one voxel; components of neighbouring blocks that share a voxel are
   merged (:func:`volseg.infer.stitch.match_segments` with the exact ``"any"`` rule), so every
   seed is one id over the whole volume. ``min_seed_size`` then drops whole seeds by their
   total size, as the whole-volume decode does. The global ids go to a scratch array.
2. **Flood, in rounds.** Each block floods its read region (write region + halo) from the
   global seed ids there and keeps the label and flood level of its write-region voxels. In
   the next rounds each block whose inputs changed (a neighbour's state changed on a cut
   face of its read region) floods again (in eight waves of non-neighbouring blocks), also
   from its cut-face voxels with the labels and levels the neighbours found there
   (:func:`volseg.infer.block_flood.ring_flood`, where the argument is made). Levels only
   fall; a round without change is the whole-volume flood. Memory per task is one read
   region, whatever the volume.
3. **Ids.** ``min_instance_size`` removes whole instances by their total size; the rest are
   numbered 1..N and written.

Every round stores per-block results as files that appear only when complete (see
:mod:`volseg.infer.decode_tasks`); a rerun of an unfinished output skips finished seed and
flood blocks.
"""

from __future__ import annotations

import logging
import shutil
import time
from typing import Any

import numpy as np

from volseg.decode.postprocess import label_dtype
from volseg.infer.block_flood import SeededSpec
from volseg.infer.decode_tasks import Job, run_tasks, stitch_components
from volseg.infer.seeded_tasks import (
    INPUTS,
    create_seeds,
    flood_block,
    round_dir,
    round_records,
    save_npy,
    seed_block,
    tally_block,
    write_final,
    write_seeds,
)

log = logging.getLogger(__name__)

PLAN = "plan.npy"  # in the flood folder: the next wave and the blocks waiting


COLOURS = 8  # waves per flood round: blocks by the parity of (z, y, x) grid index


def colour(grid: Any, block_id: int) -> int:
    """The wave of a block: no two of its 26-neighbours share it with the block."""
    z, y, x = grid.block(block_id).index
    return (z % 2) * 4 + (y % 2) * 2 + x % 2


def _load_plan(job: Job, n_blocks: int) -> tuple[int, set[int]]:
    """The wave to run next and the blocks waiting: from an interrupted run, or all."""
    path = job.scratch_dir / "flood" / PLAN
    if not path.is_file():
        return 0, set(range(n_blocks))
    plan = np.load(path, allow_pickle=False)
    return int(plan[0]), {int(i) for i in plan[1:]}


def _save_plan(job: Job, step: int, pending: list[int]) -> None:
    save_npy(job.scratch_dir / "flood" / PLAN, np.array([step, *pending], dtype=np.int64))


def _share(value: Any, client: Any) -> Any:
    """One copy of a large argument per worker instead of one per task."""
    return value if client is None else client.scatter(value, broadcast=True)


def seeded_rounds(
    job: Job, spec: SeededSpec, *, max_rounds: int | None = None, client: Any = None
) -> dict[str, Any]:
    """Run the rounds of the exact route and write the labels; returns the result record.

    A flood round sweeps the blocks in eight waves, by the parity of their grid position
    (:func:`colour`): blocks of one wave are never neighbours, so none reads what another
    writes, a wave sees everything earlier waves wrote (information crosses several blocks
    per round), and the result does not depend on the order in which workers run tasks.
    ``max_rounds`` caps the rounds (default: twice the grid's blocks along z, y and x
    together, at least 8); the result says whether they converged."""
    if max_rounds is None:
        max_rounds = max(8, 2 * sum(job.grid.grid_shape))
    grid = job.grid
    n_blocks = len(grid)
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    seeds = job.run(seed_block, spec, stage="seeds", client=client)
    done = job.finished("seeds")
    tables, counts = stitch_components(
        job, done, stage="seeds", min_size=spec.min_seed_size, client=client
    )
    n_seeds = counts["instances"]
    create_seeds(job, n_seeds)
    run_tasks(write_seeds, [(job, i, tables[i]) for i in range(n_blocks)], client)
    seconds["seeds"] = time.perf_counter() - start

    start = time.perf_counter()
    step, pending = _load_plan(job, n_blocks)
    floods = reused = 0
    while pending and step < COLOURS * max_rounds:
        wave = sorted(i for i in pending if colour(grid, i) == step % COLOURS)
        records = round_records(job, step)
        reused += len(records)
        todo = [i for i in wave if i not in records]
        readers = [
            *records.values(),
            *run_tasks(flood_block, [(job, spec, i, step) for i in todo], client),
        ]
        floods += len(todo)
        pending.difference_update(wave)
        pending.update(i for ids in readers for i in ids)
        step += 1
        _save_plan(job, step, sorted(pending))
        shutil.rmtree(round_dir(job, step - 1), ignore_errors=True)
    shutil.rmtree(job.scratch_dir / INPUTS, ignore_errors=True)  # only floods read them
    active = sorted(pending)
    round_no = -(-step // COLOURS)
    seconds["flood"] = time.perf_counter() - start

    start = time.perf_counter()
    totals = np.zeros(n_seeds + 1, dtype=np.int64)
    for ids, n in run_tasks(tally_block, [(job, i) for i in range(n_blocks)], client):
        np.add.at(totals, ids.astype(np.int64), n)
    keep = totals >= max(1, spec.min_instance_size)
    keep[0] = False
    final = (np.cumsum(keep) * keep).astype(label_dtype(int(keep.sum()) + 1))
    shared = _share(final, client)
    run_tasks(write_final, [(job, i, shared) for i in range(n_blocks)], client)
    seconds["write"] = time.perf_counter() - start
    if active:  # the cap: a rerun would try again from here
        log.warning("flood rounds stopped at %d without converging (%d blocks changing)",
                    round_no, len(active))  # fmt: skip
    return {
        "instances": int(keep.sum()), "blocks": n_blocks, "seeds_decoded": seeds.computed,
        "blocks_computed": seeds.computed, "blocks_reused": seeds.reused,
        "seeds": n_seeds, "seed_pieces": counts["block_segments"], "rounds": round_no,
        "blocks_decoded": floods, "floods_reused": reused, "converged": not active,
        "seconds": seconds,
    }  # fmt: skip
