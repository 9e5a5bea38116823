"""run_blocks: only blocks without a done-record run, each recorded after its task returns."""

import numpy as np
import pytest

from volseg.errors import VolsegError
from volseg.infer.run_blocks import BlockCounts, Records, run_blocks


def square(scale, block_id):
    return scale * block_id * block_id


def failing(bad, block_id):
    if block_id in bad:
        raise RuntimeError(f"block {block_id} failed")
    return block_id


@pytest.fixture(name="records")
def records_fixture(tmp_path):
    records = Records(str(tmp_path / "job.zarr"), "done/stage")
    records.create((2, 3))
    return records


def test_runs_every_block_once_and_records_its_count(records):
    assert records.done() == {}
    assert run_blocks(range(6), square, records, args=(2,)) == BlockCounts(6, 0)
    assert records.done() == {i: 2 * i * i for i in range(6)}
    marks = np.asarray(records.array()[...])
    assert marks.shape == (2, 3) and (marks.ravel() == [2 * i * i + 1 for i in range(6)]).all()
    assert run_blocks(range(6), square, records, args=(3,)) == BlockCounts(0, 6)
    assert records.done() == {i: 2 * i * i for i in range(6)}  # reused, not recomputed


def test_a_failed_block_has_no_record_and_runs_again(records):
    with pytest.raises(RuntimeError, match="block 4 failed"):
        run_blocks(range(6), failing, records, args=({4},))
    assert 4 not in records.done()
    counts = run_blocks(range(6), failing, records, args=(set(),))
    assert counts.computed >= 1 and counts.computed + counts.reused == 6
    assert records.done() == {i: i for i in range(6)}


def test_only_the_blocks_asked_for_run(records):
    assert run_blocks([1, 5], square, records, args=(1,)) == BlockCounts(2, 0)
    assert records.done() == {1: 1, 5: 25}
    assert run_blocks([0, 1], square, records, args=(1,)) == BlockCounts(1, 1)


class LostClient:
    """A client whose tasks never run (as if their workers died without an error)."""

    def submit(self, *args, **kwargs):
        self.kwargs = kwargs
        return None

    def gather(self, futures):
        return futures


def test_blocks_left_without_a_record_are_an_error(records):
    client = LostClient()
    with pytest.raises(VolsegError, match="2 blocks of .*job.zarr:done were not written"):
        run_blocks([0, 3], square, records, args=(1,), client=client, resources={"GPU": 1})
    assert client.kwargs == {"pure": False, "resources": {"GPU": 1}}


def test_a_record_array_of_another_grid_is_refused(records):
    with pytest.raises(VolsegError, match=r"records \[2, 3\] blocks, not \[3, 2\]"):
        records.create((3, 2))


def test_a_failing_task_lets_the_running_ones_finish_before_the_error(tmp_path):
    import threading
    import time

    from volseg.infer.run_blocks import settled_map

    finished = []
    started = threading.Barrier(2)

    def task(i):
        if i == 0:
            started.wait()
            raise VolsegError("bad block 0")
        started.wait()
        time.sleep(0.3)  # still writing when block 0 fails
        finished.append(i)
        return i

    with pytest.raises(VolsegError, match="bad block 0"):
        settled_map(task, [(0,), (1,)])
    assert finished == [1]  # done before the error reached the caller
