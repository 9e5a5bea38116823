"""A training process killed with SIGKILL leaves readable checkpoints and resumes from them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.train.helpers import tiny_text
from volseg.checkpoint import load_checkpoint
from volseg.train.logger import read_csv

VOLSEG = [sys.executable, "-m", "volseg"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sigkill_then_resume(vesicle_zarr: Path, tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(tiny_text(vesicle_zarr))
    runs = tmp_path / "runs"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        *VOLSEG,
        "fit",
        str(config),
        "optimization.max_epochs=100",
        "--runs",
        str(runs),
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        last = None
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(runs.glob("tiny/*/checkpoints/last.pt"))
            if found:
                last = found[0]
                break
            time.sleep(0.05)
        assert last is not None, proc.stderr.read().decode() if proc.poll() is not None else ""
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    run_dir = last.parents[1]
    ckpt = load_checkpoint(last)  # readable: written to a temp file, then renamed
    done = ckpt["epoch"]
    assert done >= 1 and ckpt["step"] == 2 * done
    target = done + 2
    out = subprocess.run(
        [
            *VOLSEG,
            "fit",
            str(config),
            f"optimization.max_epochs={target}",
            "--resume",
            str(run_dir),
            "--no-progress",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(run_dir)
    assert f"resumed from {last} at epoch {done}, step {2 * done}" in out.stderr
    final = load_checkpoint(last)
    assert (final["epoch"], final["step"]) == (target, 2 * target)
    rows = read_csv(run_dir / "metrics.csv")
    steps = [r["step"] for r in rows if "train/loss" in r]
    assert steps == list(range(1, 2 * target + 1))  # no step twice, none missing
    assert [r["epoch"] for r in rows if "train/epoch_loss" in r] == list(range(1, target + 1))
