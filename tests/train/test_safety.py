"""Issue 14 rows 7, 8 and 10: non-finite training stops before saving, resume honours new
optimizer settings, and one process at a time trains in a run directory."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from tests.train.helpers import tiny_config
from volseg.checkpoint import load_checkpoint
from volseg.errors import VolsegError
from volseg.train import TrainingStopped, fit
from volseg.train.lock import run_lock
from volseg.train.logger import read_csv
from volseg.train.run_dir import run_dirs


def run(volume: Path, tmp: Path, *overrides: str, **kw) -> Path:
    return fit(tiny_config(volume, *overrides), run_root=tmp / "runs", progress=False, **kw)


def _poison(monkeypatch, *, when) -> None:
    """Make the network output NaN on the forward passes for which ``when(n, training)``."""
    import volseg.models

    real = volseg.models.build
    calls = {"n": 0}

    def poisoned(model_cfg):
        net = real(model_cfg)

        def hook(module, args, out):
            calls["n"] += 1
            return out * float("nan") if when(calls["n"], module.training) else None

        net.register_forward_hook(hook)
        return net

    monkeypatch.setattr(volseg.models, "build", poisoned)


def test_nan_validation_loss_stops_before_saving(vesicle_zarr, tmp_path, monkeypatch):
    state = {"train": 0}

    def when(n, training):  # validation after epoch 2 (two training steps per epoch) is NaN
        state["train"] += training
        return not training and state["train"] > 2

    _poison(monkeypatch, when=when)
    with pytest.raises(TrainingStopped, match=r"val/patch_loss became nan at epoch 2; training "
                       r"stopped and the last good checkpoint is kept: .*last\.pt"):  # fmt: skip
        run(vesicle_zarr, tmp_path)
    (out,) = run_dirs(tmp_path / "runs" / "tiny")
    for name in ("last.pt", "best.pt"):
        ckpt = load_checkpoint(out / "checkpoints" / name)
        assert ckpt["epoch"] == 1, name  # epoch 2 was never saved


def test_first_step_nan_says_no_checkpoint_was_written(vesicle_zarr, tmp_path, monkeypatch):
    _poison(monkeypatch, when=lambda n, training: training)
    with pytest.raises(TrainingStopped, match="training stopped and no checkpoint was written"):
        run(vesicle_zarr, tmp_path)
    (out,) = run_dirs(tmp_path / "runs" / "tiny")
    assert list((out / "checkpoints").iterdir()) == []


def test_non_finite_batchnorm_statistics_are_never_saved(vesicle_zarr, tmp_path, monkeypatch):
    from volseg.train import session

    real = session.Session.check_weights

    def corrupt_then_check(self):
        norms = [m for m in self.net.modules() if hasattr(m, "running_var")]
        buffer = norms[0].running_var if norms else None
        if buffer is None:  # group norm: plant an inf buffer like BatchNorm's
            self.net.register_buffer("running_var", torch.full((2,), float("inf")))
        else:
            buffer.fill_(float("inf"))
        return real(self)

    monkeypatch.setattr(session.Session, "check_weights", corrupt_then_check)
    with pytest.raises(TrainingStopped, match=r"weight .*running_var became non-finite at epoch "
                       r"1; training stopped and no checkpoint was written"):  # fmt: skip
        run(vesicle_zarr, tmp_path)


def test_resume_with_a_lower_lr_uses_it(vesicle_zarr, tmp_path):
    first = run(vesicle_zarr, tmp_path, "optimization.max_epochs=1",
                "optimization.scheduler.name=cosine",
                "optimization.scheduler.min_lr=1e-5")  # fmt: skip
    notes: list[str] = []
    fit(
        tiny_config(
            vesicle_zarr,
            "optimization.max_epochs=2",
            "optimization.optimizer.lr=1e-4",
            "optimization.scheduler.name=cosine",
            "optimization.scheduler.min_lr=1e-5",
            "optimization.optimizer.weight_decay=0.0",
        ),  # fmt: skip
        resume=first,
        run_root=tmp_path / "runs",
        progress=False,
        echo=notes.append,
    )
    changed = [n for n in notes if n.startswith("changed on resume")]
    assert len(changed) == 1
    assert "optimization.optimizer.lr: 0.001 -> 0.0001" in changed[0]
    assert "optimization.max_epochs: 1 -> 2" in changed[0]
    assert "optimization.optimizer.weight_decay: 0.01 -> 0.0" in changed[0]
    assert changed[0] in (first / "train.log").read_text()
    rows = [r for r in read_csv(first / "metrics.csv") if "train/lr" in r and "train/loss" in r]
    lrs = [r["train/lr"] for r in rows if r["epoch"] == 2]
    # cosine from the new lr: halfway (step 2 of 4) it is (lr + min_lr) / 2, then lower
    assert lrs[0] == pytest.approx((1e-4 + 1e-5) / 2, rel=1e-6)
    assert lrs[1] < lrs[0] and all(lr <= 1e-4 for lr in lrs)
    last = load_checkpoint(first / "checkpoints" / "last.pt")
    groups = last["optimizer_state"]["param_groups"]
    assert groups[0]["weight_decay"] == 0.0 and groups[0]["initial_lr"] == 1e-4
    assert yaml.safe_load((first / "config.yaml").read_text())["optimization"]["optimizer"][
        "lr"] == 1e-4  # fmt: skip
    assert yaml.safe_load((first / "config.1.yaml").read_text())["optimization"]["optimizer"][
        "lr"] == 1e-3  # fmt: skip


def test_resume_refuses_another_optimizer_kind(vesicle_zarr, tmp_path):
    first = run(vesicle_zarr, tmp_path, "optimization.max_epochs=1")
    before = (first / "metrics.csv").read_bytes()
    with pytest.raises(VolsegError, match="cannot resume with optimization.optimizer.name='SGD'"):
        run(vesicle_zarr, tmp_path, "optimization.optimizer.name=SGD", resume=first)
    assert (first / "metrics.csv").read_bytes() == before


def test_a_run_directory_is_locked_while_training(vesicle_zarr, tmp_path):
    first = run(vesicle_zarr, tmp_path, "optimization.max_epochs=1")
    before = {p.name: p.read_bytes() for p in first.iterdir() if p.is_file()}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom volseg.train.lock import run_lock\n"
         f"with run_lock({str(first)!r}):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(VolsegError, match=rf"run directory {first} is in use by volseg "
                           rf"process {holder.pid} \(since"):  # fmt: skip
            run(vesicle_zarr, tmp_path, "optimization.max_epochs=2", resume=first)
        after = {p.name: p.read_bytes() for p in first.iterdir() if p.is_file()}
        assert {k: v for k, v in after.items() if k != ".lock"} == {
            k: v for k, v in before.items() if k != ".lock"
        }
    finally:
        holder.kill()
        holder.wait()
    start = time.monotonic()
    with run_lock(first):  # a killed holder leaves no stale lock
        assert time.monotonic() - start < 5


def test_lock_is_exclusive_within_one_process(tmp_path):
    with run_lock(tmp_path):
        with pytest.raises(VolsegError, match="is in use by volseg process"):
            with run_lock(tmp_path):
                pass
    with run_lock(tmp_path):
        pass
