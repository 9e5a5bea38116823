"""``fit`` with ``optimization.max_time`` on a fake clock: each training step and each patch
validation moves the clock; the steps slow down 8x half-way or not. The schedule must end at
min_lr when training stops, the run within its budget with its files written, and a resume must
go on from the budget used."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.train.helpers import tiny_config
from volseg.checkpoint import load_checkpoint
from volseg.train import fit, time_budget
from volseg.train import validate as val
from volseg.train.logger import read_csv
from volseg.train.loop import Trainable
from volseg.train.run_dir import run_dirs

BUDGET = 60.0
MIN_LR = 1e-5
PLAN = [
    "optimization.max_epochs=40",  # 80 planned steps: more than fit in the budget
    f"optimization.max_time={BUDGET}",
    "optimization.scheduler.name=warmup_cosine",
    "optimization.scheduler.warmup_epochs=2",
    f"optimization.scheduler.min_lr={MIN_LR}",
]


class Clock:
    """A fake clock moved by the patched training step and patch validation."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.start = self.t
        self.step = 1.0  # seconds a training step takes
        self.slow_after: float | None = None  # 8x slower once this much of the run is used
        self.crash_after: float | None = None

    def __call__(self) -> float:
        return self.t

    def train_step(self) -> None:
        used = self.t - self.start
        if self.crash_after is not None and used >= self.crash_after:
            raise RuntimeError("simulated crash (the job was killed)")
        slow = self.slow_after is not None and used >= self.slow_after
        self.t += self.step * (8 if slow else 1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(time_budget, "CLOCK", fake)
    forward, validation = Trainable.forward, val.patch_validation

    def slow_forward(self, *args, **kwargs):
        fake.train_step()
        return forward(self, *args, **kwargs)

    def slow_validation(*args, **kwargs):
        fake.t += 1.5
        return validation(*args, **kwargs)

    monkeypatch.setattr(Trainable, "forward", slow_forward)
    monkeypatch.setattr(val, "patch_validation", slow_validation)
    return fake


def train(volume: Path, tmp: Path, clock: Clock, *overrides: str, **kw) -> Path:
    clock.start = clock.t
    cfg = tiny_config(volume, *PLAN, *overrides)
    return fit(cfg, run_root=tmp / "runs", progress=False, **kw)


def step_lrs(rows: list[dict]) -> list[float]:
    return [r["train/lr"] for r in rows if "train/loss" in r]


def check_finished_in_budget(out: Path, clock: Clock) -> list[dict]:
    """min_lr at the end, within the budget, checkpoints and a closed metrics.csv."""
    rows = read_csv(out / "metrics.csv")  # complete rows only: the file was closed
    epochs = [r for r in rows if "train/epoch_loss" in r]
    assert epochs[-1]["train/lr"] == pytest.approx(MIN_LR, rel=1e-6)  # the schedule's end
    assert 0.9 < epochs[-1]["train/budget_used"] <= 1.0
    assert clock.t - clock.start <= BUDGET  # the last validation and checkpoints included
    last = load_checkpoint(out / "checkpoints" / "last.pt")
    assert (last["epoch"], last["step"]) == (epochs[-1]["epoch"], epochs[-1]["step"])
    assert 0.9 * BUDGET < last["extra"]["budget"]["used"] <= BUDGET
    assert (out / "checkpoints" / "best.pt").is_file()
    lrs = step_lrs(rows)
    peak = lrs.index(max(lrs))
    assert lrs[0] == pytest.approx(1e-4) and peak > 0  # warm-up from 0.1 * lr
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1 :], strict=False))
    assert lrs[-1] < 0.05 * max(lrs)  # the last step ran at the tail of the cosine
    log = (out / "train.log").read_text()
    assert "training to max_time 0:01:00 of wall time (validation and checkpoints included)" in log
    assert "of max_time 0:01:00 used" in log.splitlines()[-1]
    return rows


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected call of")
def test_schedule_ends_in_budget_with_fast_and_with_slowed_steps(
    vesicle_zarr: Path, tmp_path: Path, clock: Clock
) -> None:
    fast = check_finished_in_budget(train(vesicle_zarr, tmp_path / "fast", clock), clock)
    clock.slow_after = BUDGET / 2
    slowed = check_finished_in_budget(train(vesicle_zarr, tmp_path / "slow", clock), clock)
    # 2 steps + 1.5 s validation an epoch: ~17 epochs fit at 1 s a step; slowed, ~9 + ~2.
    assert 30 <= len(step_lrs(fast)) <= 36
    assert len(step_lrs(slowed)) < len(step_lrs(fast)) - 8
    # When the planned epochs fit in the budget, the steps end the schedule, as without one.
    out = train(vesicle_zarr, tmp_path / "plan", clock, "optimization.max_epochs=5")
    rows = read_csv(out / "metrics.csv")
    assert rows[-1]["epoch"] == 5 and rows[-1]["train/lr"] == pytest.approx(MIN_LR, rel=1e-6)
    assert rows[-1]["train/budget_used"] == pytest.approx((10 + 5 * 1.5) / BUDGET)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected call of")
def test_resume_goes_on_from_the_budget_used(
    vesicle_zarr: Path, tmp_path: Path, clock: Clock
) -> None:
    clock.crash_after = BUDGET / 2
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(vesicle_zarr, tmp_path, clock)
    (out,) = run_dirs(tmp_path / "runs" / "tiny")
    ckpt = load_checkpoint(out / "checkpoints" / "last.pt")
    used = ckpt["extra"]["budget"]["used"]
    assert BUDGET / 4 < used < 0.75 * BUDGET
    lr_at_save = ckpt["optimizer_state"]["param_groups"][0]["lr"]

    clock.crash_after = None
    clock.t += 5000  # a later job: only the recorded seconds count
    notes: list[str] = []
    assert train(vesicle_zarr, tmp_path, clock, resume=out, echo=notes.append) == out
    assert f"time budget: {time_budget.format_duration(used)} of max_time 0:01:00 used" in notes[1]
    rows = read_csv(out / "metrics.csv")
    resumed = next(r for r in rows if r["step"] == ckpt["step"] + 1 and "train/loss" in r)
    assert resumed["train/lr"] == pytest.approx(lr_at_save)  # the schedule goes on from there
    last = load_checkpoint(out / "checkpoints" / "last.pt")
    assert last["extra"]["budget"]["used"] <= BUDGET  # both processes together
    epochs = [r for r in rows if "train/epoch_loss" in r]
    assert epochs[-1]["train/lr"] == pytest.approx(MIN_LR, rel=1e-6)
    assert [r["step"] for r in rows if "train/loss" in r] == list(range(1, last["step"] + 1))

    before = (out / "metrics.csv").read_text()
    notes.clear()
    train(vesicle_zarr, tmp_path, clock, resume=out, echo=notes.append)
    assert notes[-1].startswith("nothing to do: the time budget is spent (")
    assert notes[-1].endswith(" left); raise optimization.max_time to train longer")
    assert (out / "metrics.csv").read_text() == before


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected call of")
def test_real_clock_with_a_sleep_in_the_step(
    vesicle_zarr: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget, start = 20.0, time.monotonic()  # set-up alone can take 5-10 s on a busy machine
    forward = Trainable.forward

    def sleepy_forward(self, *args, **kwargs):  # 8x slower once half the budget is gone
        time.sleep(0.05 if time.monotonic() - start < budget / 2 else 0.4)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(Trainable, "forward", sleepy_forward)
    cfg = tiny_config(vesicle_zarr, *PLAN, f"optimization.max_time={budget}")
    out = fit(cfg, run_root=tmp_path / "runs", progress=False)
    wall = time.monotonic() - start
    rows = read_csv(out / "metrics.csv")
    # The whole fit, set-up to the last checkpoint; the slack is for a step or validation that
    # runs longer than the ones before it on a busy machine.
    assert wall <= budget + 1.5, (wall, (out / "train.log").read_text())
    # An epoch end that leaves no room for another step ends the run a step and a validation
    # early: the schedule is then within a hair of min_lr (1 % of the way down from the peak).
    assert MIN_LR <= rows[-1]["train/lr"] <= MIN_LR + 0.01 * (1e-3 - MIN_LR)
    assert load_checkpoint(out / "checkpoints" / "last.pt")["step"] == rows[-1]["step"]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Detected call of")
def test_setup_longer_than_the_budget_still_leaves_a_model(
    vesicle_zarr: Path, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from volseg.train import setup

    make_data = setup.make_data

    def slow_make_data(*args, **kwargs):
        clock.t += 2 * BUDGET
        return make_data(*args, **kwargs)

    monkeypatch.setattr(setup, "make_data", slow_make_data)
    notes: list[str] = []
    out = train(vesicle_zarr, tmp_path, clock, echo=notes.append)
    assert load_checkpoint(out / "checkpoints" / "last.pt")["step"] == 1  # one step, then stop
    assert (out / "checkpoints" / "best.pt").is_file()
    assert "0:02:02 of max_time 0:01:00 used, none left" in notes[-1]
