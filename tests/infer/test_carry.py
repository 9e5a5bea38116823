"""CarryStore: pieces kept in memory up to a budget, then on disk; all given back once."""

import numpy as np

from volseg.infer.carry import CarryStore


def test_pieces_over_the_budget_go_to_disk_and_come_back(tmp_path):
    a, b, c = (np.full((2, 3, 4, 5), v, np.float32) for v in (1, 2, 3))
    with CarryStore(budget_bytes=a.nbytes, spill_dir=tmp_path) as store:
        store.put((1, 0, 0), (slice(0, 3),), a)
        store.put((1, 0, 0), (slice(3, 6),), b)  # over budget: spilled
        store.put((0, 1, 0), (slice(0, 3),), c)  # still over budget: spilled
        assert store.memory_bytes == a.nbytes and store.spilled_bytes == b.nbytes + c.nbytes
        assert len(store) == 3 and len(list(tmp_path.iterdir())) == 1
        got = store.pop((1, 0, 0))
        assert [r for r, _ in got] == [(slice(0, 3),), (slice(3, 6),)]
        np.testing.assert_array_equal(got[0][1], a)
        np.testing.assert_array_equal(got[1][1], b)
        assert store.memory_bytes == 0 and store.pop((1, 0, 0)) == []
        assert store.peak_memory_bytes == a.nbytes
    assert list(tmp_path.iterdir()) == []  # the spill directory is removed on close


def test_stored_pieces_are_copies():
    piece = np.zeros((1, 2, 2, 2), np.float32)
    store = CarryStore()
    store.put((0, 0, 0), (slice(0, 2),), piece)
    piece += 5
    assert store.pop((0, 0, 0))[0][1].max() == 0
