"""Run block tasks that are not done yet, and record each one as it finishes.

Blockwise predict and blockwise decode keep their done-records in one format: a **per-block
marker array** in zarr (one chunk per block, fill value 0 = not done; a record is ``1 +`` the
non-negative count the task returned, e.g. segments of a decoded block, 0 for a predicted
block). Why an array rather than small files in a job directory: a prediction's output is a
zarr node that workers already write, and its markers (``volseg_done``) sit beside the maps
in the same store, travel with it and are read in one call; a decode keeps its marker arrays
in its scratch folder inside the labels node. Zarr's local store writes every chunk under a
temporary name and renames it, so a marker is either absent or whole, and it is written by
the worker right after the task returns, i.e. after the task's own output (chunks written,
files moved into place) is durable. A block whose task died leaves no record and is computed
again by the next run; a record never exists without its block's output.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from volseg.errors import VolsegError


@dataclass(frozen=True)
class Records:
    """The done-records of one set of block tasks: a zarr array at ``path`` inside ``store``
    (a directory), flat block id = C-order position in the array. Small and picklable."""

    store: str
    path: str

    @property
    def label(self) -> str:
        """The node holding the records, for messages."""
        parent = self.path.rpartition("/")[0]
        return f"{self.store}:{parent}" if parent else self.store

    def create(self, shape: Sequence[int], *, dtype: str = "int64") -> Any:
        """The marker array, created empty if missing (a wrong shape is refused)."""
        import zarr

        parent, _, name = self.path.rpartition("/")
        group = zarr.open_group(self.store, path=parent, mode="a")
        if name in group:
            markers: Any = group[name]
            if tuple(markers.shape) != tuple(shape):
                raise VolsegError(
                    f"{self.label} records {list(markers.shape)} blocks, not {list(shape)}; use "
                    "the same block shape or --overwrite."
                )
            return markers
        return group.create_array(
            name, shape=tuple(shape), chunks=(1,) * len(shape), dtype=dtype, fill_value=0
        )

    def array(self) -> Any:
        import zarr

        return zarr.open_array(self.store, path=self.path, mode="r+")

    def done(self) -> dict[int, int]:
        """Block id -> recorded count, for every block with a record (none without the array)."""
        try:
            marks = np.asarray(self.array()[...]).ravel()
        except FileNotFoundError:
            return {}
        return {int(i): int(marks[i]) - 1 for i in np.flatnonzero(marks)}

    def record(self, block_id: int, count: int = 0) -> None:
        """Mark a block done (call only once its output is durable)."""
        array = self.array()
        index = np.unravel_index(int(block_id), tuple(array.shape))
        array[tuple(int(i) for i in index)] = int(count) + 1


class BlockCounts(NamedTuple):
    """How many of the blocks asked for ran now and how many had a record already."""

    computed: int
    reused: int


def _run_one(task: Callable[..., Any], records: Records, block_id: int, *args: Any) -> Any:
    result = task(*args, block_id)
    records.record(block_id, int(result or 0))
    return result


def run_blocks(
    ids: Sequence[int],
    task: Callable[..., int | None],
    records: Records,
    *,
    args: tuple[Any, ...] = (),
    client: Any = None,
    resources: dict[str, int] | None = None,
) -> BlockCounts:
    """Run ``task(*args, block_id)`` for every id in ``ids`` without a record, recording each.

    Args:
        ids: flat block ids.
        task: a picklable function returning a count >= 0 (stored in the record) or None.
        records: where the records are kept (the array must exist: :meth:`Records.create`).
        args: leading arguments (Dask futures among them are resolved on the workers).
        client: a ``distributed.Client``; None runs on Dask's threaded scheduler.
        resources: Dask resources each task asks for (e.g. ``{"GPU": 1}``).

    Raises:
        VolsegError: a block has no record after its task ran (task errors propagate).
    """
    done = records.done()
    todo = [int(i) for i in ids if int(i) not in done]
    if todo and client is not None:
        futures = client.map(
            _run_one, [task] * len(todo), [records] * len(todo), todo,
            *([a] * len(todo) for a in args), pure=False, resources=resources,
        )  # fmt: skip
        client.gather(futures)
    elif todo:
        import dask

        calls = [dask.delayed(_run_one, pure=False)(task, records, i, *args) for i in todo]
        dask.compute(*calls, scheduler="threads")
    done = records.done()
    missing = [i for i in ids if int(i) not in done]
    if missing:
        raise VolsegError(
            f"{len(missing)} blocks of {records.label} were not written; run again to resume."
        )
    return BlockCounts(len(todo), len(ids) - len(todo))
