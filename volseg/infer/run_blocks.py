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
    label: str = "blocks",
) -> BlockCounts:
    """Run ``task(*args, block_id)`` for every id in ``ids`` without a record, recording each.

    Args:
        ids: flat block ids.
        task: a picklable function returning a count >= 0 (stored in the record) or None.
        records: where the records are kept (the array must exist: :meth:`Records.create`).
        args: leading arguments (Dask futures among them are resolved on the workers).
        client: a ``distributed.Client``; None runs on threads in this process.
        resources: Dask resources each task asks for (e.g. ``{"GPU": 1}``).
        label: what the progress bar calls the blocks (blocks with a record count as done).

    Raises:
        VolsegError: a block has no record after its task ran (task errors propagate).
    """
    done = records.done()
    todo = [int(i) for i in ids if int(i) not in done]
    calls = [(task, records, i, *args) for i in todo]
    settled_map(_run_one, calls, client, resources=resources, label=label, total=len(ids))
    done = records.done()
    missing = [i for i in ids if int(i) not in done]
    if missing:
        raise VolsegError(
            f"{len(missing)} blocks of {records.label} were not written; run again to resume."
        )
    return BlockCounts(len(todo), len(ids) - len(todo))


def settled_map(
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    client: Any = None,
    *,
    resources: dict[str, int] | None = None,
    label: str | None = None,
    total: int | None = None,
) -> list[Any]:
    """``[fn(*args) for args in calls]`` as parallel tasks (on ``client``, else on threads),
    results in call order.

    A progress bar named ``label`` (default: the function's name) advances as each task
    finishes; ``total`` (default: the number of calls) counts tasks done before as finished.

    When a task fails, the tasks not yet started are cancelled and the running ones are
    waited for before the error is raised, so nothing is still writing when the caller
    cleans up (e.g. removes an output that bad input made useless)."""
    from volseg.progress import track

    if not calls:
        return []
    total = len(calls) if total is None else total
    with track(label or fn.__name__.replace("_", " "), total) as bar:
        bar.advance(total - len(calls))
        if client is None:
            return _on_threads(fn, calls, bar)
        return _on_client(fn, calls, client, resources, bar)


def _on_client(fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], client: Any,
               resources: dict[str, int] | None, bar: Any) -> list[Any]:  # fmt: skip
    futures = [client.submit(fn, *args, pure=False, resources=resources) for args in calls]
    for future in futures:
        if hasattr(future, "add_done_callback"):  # a distributed Future (tests pass stand-ins)
            future.add_done_callback(lambda _: bar.advance())
    try:
        return client.gather(futures)
    except Exception:
        from distributed import wait

        ours = {f.key: f for f in futures}
        busy = {k for keys in client.processing().values() for k in keys if k in ours}
        client.cancel([f for k, f in ours.items() if k not in busy])
        wait([ours[k] for k in busy], timeout=600)
        raise


def _on_threads(fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], bar: Any) -> list[Any]:
    import os
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = [pool.submit(fn, *args) for args in calls]
        for future in futures:
            future.add_done_callback(lambda f: f.cancelled() or bar.advance())
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        wait(futures)  # the running ones finish (cancelled ones count as done)
        failed = next((f for f in futures if f.done() and not f.cancelled()
                       and f.exception() is not None), None)  # fmt: skip
        if failed is not None:
            raise failed.exception()  # type: ignore[misc]
        return [f.result() for f in futures]
