"""``volseg segment --cluster local:2`` killed (scheduler, client and workers at once) halfway
through prediction, then run again: the labels equal an uninterrupted run's and the blocks
predicted before the kill are not predicted again."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from tests.infer.predict_fixtures import CC, CONFIG, tiny_checkpoint, tiny_config, tiny_image
from volseg.io import open_volume, write_volume

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def command(tmp: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "volseg.cli.main", "segment", str(tmp / "cfg.yaml"), CC,
            "--checkpoint", str(tmp / "model.pt"), "--image", str(tmp / "raw.zarr"), "--out",
            str(out), "--block-shape", "8,32,32", "--cluster", "local:2"]  # fmt: skip


def done(out: Path) -> np.ndarray:
    path = out / "maps" / "volseg_done"
    if not (path / "zarr.json").is_file():
        return np.zeros(0, bool)
    return np.asarray(zarr.open_array(str(path), mode="r")[...]).ravel() > 0


def chunk_times(out: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (out / "maps" / "s0").rglob("c/**/*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_segment_killed_halfway_reruns_to_the_same_labels(tmp_path):
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    tiny_checkpoint(tmp_path / "model.pt", tiny_config())
    write_volume(tmp_path / "raw.zarr", tiny_image((32, 128, 128)), voxel_size=(10, 5, 5),
                 chunks=(8, 32, 32), levels=1)  # fmt: skip
    run = dict(env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300)
    plain = subprocess.run(command(tmp_path, tmp_path / "plain.zarr"), **run)
    assert plain.returncode == 0, plain.stderr
    out = tmp_path / "killed.zarr"
    proc = subprocess.Popen(command(tmp_path, out), env=ENV, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    while proc.poll() is None:
        marks = done(out)
        if marks.size and marks.sum() >= marks.size // 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = int(done(out).sum())
    assert 0 < finished < done(out).size
    before = chunk_times(out)
    again = subprocess.run(command(tmp_path, out), **run)
    assert again.returncode == 0, again.stderr
    after = chunk_times(out)
    assert before and all(after[p] == t for p, t in before.items())  # not predicted again
    a = open_volume(f"{tmp_path / 'plain.zarr'}:labels/segmentation").numpy()
    b = open_volume(f"{out}:labels/segmentation").numpy()
    assert np.array_equal(a, b) and a.max() > 0
    assert np.array_equal(open_volume(f"{out}:maps").numpy(),
                          open_volume(f"{tmp_path / 'plain.zarr'}:maps").numpy())  # fmt: skip
