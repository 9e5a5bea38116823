"""The window engine: MONAI's batch sizes, padded partial batches, weighted sums."""

import numpy as np
import pytest
import torch

from volseg.errors import VolsegError
from volseg.infer.grid import make_grid
from volseg.infer.windows import Accumulator, SlidingSettings, run_windows, tail_windows


def test_tail_windows_are_monai_last_batch():
    grid = make_grid((17, 40, 45), (8, 16, 16), 0.25)
    every = grid.windows(grid.all_ranges())
    for batch in range(1, 9):
        assert (
            tail_windows(grid, batch)
            == every[len(every) - grid.size % batch :][: grid.size % batch]
        )
    assert tail_windows(make_grid((8, 16, 80), (8, 16, 16), 0.0), 3) == [(0, 0, 48), (0, 0, 64)]


def test_partial_batches_are_padded_to_the_batch_size():
    sizes = []

    class Record(torch.nn.Module):
        def forward(self, x):
            sizes.append(x.shape[0])
            return x

    settings = SlidingSettings(window=(2, 2, 2), sw_batch_size=4)
    items = [(i, (0, 0, i), torch.full((1, 2, 2, 2), float(i))) for i in range(6)]
    out = list(run_windows(Record(), items, settings=settings))
    assert sizes == [4, 4] and [t for t, _, _ in out] == list(range(6))
    assert all(float(p.mean()) == i for i, _, p in out)
    known = {(0, 0, 1): torch.zeros(1, 2, 2, 2)}
    out = list(run_windows(Record(), items, settings=settings, known=known))
    assert sizes[2:] == [4, 4] and float(out[1][2].sum()) == 0


def test_accumulator_cuts_windows_to_its_region():
    weights = torch.full((2, 2, 2), 0.5)
    acc = Accumulator((slice(1, 3), slice(0, 2), slice(0, 2)), weights)
    acc.add((0, 0, 0), torch.ones(1, 2, 2, 2))  # overlaps the region's first plane only
    acc.add((2, 0, 0), torch.full((1, 2, 2, 2), 3.0))
    acc.add((5, 0, 0), torch.full((1, 2, 2, 2), 9.0))  # outside: ignored
    both = acc.numpy()
    np.testing.assert_array_equal(both[0, :, 0, 0], [0.5, 1.5])
    np.testing.assert_array_equal(both[1, :, 0, 0], [0.5, 0.5])
    with pytest.raises(VolsegError, match="no sliding windows"):
        Accumulator((slice(0, 1),) * 3, weights).numpy()


def test_bad_settings_are_refused():
    with pytest.raises(VolsegError, match="padding_mode"):
        SlidingSettings(window=(4, 4, 4), padding_mode="wrap")
    with pytest.raises(VolsegError, match="sw_batch_size"):
        SlidingSettings(window=(4, 4, 4), sw_batch_size=0)
    with pytest.raises(VolsegError, match="amp"):
        SlidingSettings(window=(4, 4, 4), amp="int8")
