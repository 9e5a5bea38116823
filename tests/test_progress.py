"""Progress bars: off when stderr is not a terminal, one advance per real unit of work."""

import numpy as np
import pytest
import torch

from volseg import progress
from volseg.infer.grid import make_grid
from volseg.infer.run_blocks import Records, run_blocks
from volseg.infer.sliding import SlidingSettings


class FakeDisplay:
    """Stands in for rich's Progress; records each bar's description, total and final count."""

    def __init__(self):
        self.bars, self.live = {}, False

    def start(self):
        self.live = True

    def stop(self):
        self.live = False

    def add_task(self, description, total):
        self.bars[len(self.bars)] = [description, total, 0]
        return len(self.bars) - 1

    def update(self, task, completed):
        self.bars[task][2] = completed

    def remove_task(self, task):
        pass


@pytest.fixture
def shown(monkeypatch):
    display = FakeDisplay()
    monkeypatch.setattr(progress, "_new_display", lambda: display)
    progress.set_enabled(True)
    yield display
    progress.set_enabled(None)


def test_off_when_stderr_is_not_a_terminal(capsys):
    assert not progress.enabled()  # pytest captures stderr: not a terminal
    with progress.track("work", 3) as bar:
        for _ in range(3):
            bar.advance()
    assert not bar.shown and bar.completed == 3
    assert capsys.readouterr().err == ""


def test_quiet_switches_bars_off_even_on_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert progress.enabled()
    progress.set_enabled(False)
    try:
        assert not progress.enabled()
    finally:
        progress.set_enabled(None)


def test_nested_bars_share_one_display(shown):
    with progress.track("outer", 2) as outer:
        with progress.track("inner", 5) as inner:
            inner.advance(5)
            assert shown.live
        outer.advance(2)
    assert not shown.live
    assert list(shown.bars.values()) == [["outer", 2, 2], ["inner", 5, 5]]


def square(block_id):
    return block_id * block_id


def test_blocks_with_a_record_count_as_done(shown, tmp_path):
    records = Records(str(tmp_path / "job.zarr"), "done/stage")
    records.create((6,))
    run_blocks(range(2), square, records, label="first")
    run_blocks(range(6), square, records, label="second")
    assert list(shown.bars.values()) == [["first", 2, 2], ["second", 6, 6]]


def test_sliding_window_advances_per_window(shown):
    from tests.infer.test_sliding import stream

    class Identity(torch.nn.Module):
        def forward(self, x):
            return x.repeat(1, 3, 1, 1, 1)

    image = np.random.default_rng(5).random((1, 30, 60, 60), dtype=np.float32)
    stream(Identity(), image, SlidingSettings(window=(8, 16, 16), overlap=0.25), (8, 16, 16))
    windows = make_grid((30, 60, 60), (8, 16, 16), 0.25).size
    assert list(shown.bars.values()) == [["predict: windows", windows, windows]]


def test_sweep_advances_per_decode_and_per_score(shown):
    from tests.decode.oracle import ball_labels, oracle_maps
    from volseg.tune import sweep

    gt = ball_labels(shape=(12, 32, 32), centres=((6, 10, 10), (6, 22, 22)))
    space = {"threshold": [0.3, 0.5, 0.7], "min_instance_size": [0, 100]}
    sweep(oracle_maps(gt), gt, space, decoder="cc", base_params={"connectivity": 6})
    # three thresholds decoded once each; six (threshold, size filter) pairs scored
    assert list(shown.bars.values()) == [["sweep: decodes", 3, 3], ["sweep: scores", 6, 6]]
