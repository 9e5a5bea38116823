"""metrics.csv and TensorBoard back ends; resume truncation; robustness to cut lines."""

from __future__ import annotations

import csv
from pathlib import Path

from volseg.train.logger import CsvLogger, MultiLogger, TensorBoardLogger, read_csv


def rows_of(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_csv_grows_columns_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    log = CsvLogger(path)
    log.log({"train/loss": 0.5}, step=1, epoch=1)
    log.log({"train/loss": 0.25}, step=2, epoch=1)
    log.log({"val/patch_loss": 0.75, "train/loss": 0.125}, step=2, epoch=1)
    assert rows_of(path) == [
        ["step", "epoch", "train/loss", "val/patch_loss"],
        ["1", "1", "0.5", ""],
        ["2", "1", "0.25", ""],
        ["2", "1", "0.125", "0.75"],
    ]
    assert read_csv(path) == [
        {"step": 1, "epoch": 1, "train/loss": 0.5},
        {"step": 2, "epoch": 1, "train/loss": 0.25},
        {"step": 2, "epoch": 1, "train/loss": 0.125, "val/patch_loss": 0.75},
    ]


def test_resume_drops_rows_after_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    log = CsvLogger(path)
    for step in range(1, 6):
        log.log({"train/loss": float(step)}, step=step, epoch=1)
    with path.open("a") as fh:
        fh.write("6,1,1.5e")  # a line cut short by SIGKILL
    again = CsvLogger(path, resume_step=3)
    again.log({"train/loss": 40.0}, step=4, epoch=1)
    assert [r["step"] for r in read_csv(path)] == [1, 2, 3, 4]
    assert read_csv(path)[-1]["train/loss"] == 40.0


def test_new_file_without_resume(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    path.write_text("step,epoch,x\n1,1,2\n")
    CsvLogger(path)
    assert rows_of(path) == [["step", "epoch"]]


def test_tensorboard_and_multi(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tb = TensorBoardLogger(tmp_path)
    both = MultiLogger([tb, CsvLogger(tmp_path / "m.csv")])
    both.log({"train/loss": 2.0, "val/are": float("nan")}, step=3, epoch=1)
    both.close()
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    assert acc.Tags()["scalars"] == ["train/loss"]  # NaN is not written to TensorBoard
    assert [(e.step, e.value) for e in acc.Scalars("train/loss")] == [(3, 2.0)]
    assert read_csv(tmp_path / "m.csv")[0]["train/loss"] == 2.0
