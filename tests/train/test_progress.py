"""The progress bar shows epoch, loss, learning rate and iterations per second."""

from __future__ import annotations

import pytest

from volseg.train.progress import EpochProgress


def test_bar_fields(capsys: pytest.CaptureFixture[str]) -> None:
    with EpochProgress(enabled=True, total_epochs=3) as bar:
        bar.start_epoch(2, 2)
        bar.step({"train/loss": 0.123456, "train/lr": 0.0005})
        bar.step({"train/loss": 0.1, "train/lr": 0.0004})
        task = bar._progress.tasks[-1]
        assert task.description == "epoch 2/3" and task.completed == 2
        assert task.fields["loss"] == "0.1000" and task.fields["lr"] == "4.00e-04"
        assert task.fields["rate"].endswith(" it/s")
    assert "epoch 2/3" in capsys.readouterr().err


def test_disabled_bar_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    with EpochProgress(enabled=False, total_epochs=1) as bar:
        bar.start_epoch(1, 1)
        bar.step({"train/loss": 1.0})
        bar.note("hidden")
    assert capsys.readouterr() == ("", "")
