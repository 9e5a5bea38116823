"""Kill ``fit``, ``predict``, ``segment`` and blockwise ``decode`` at seeded random points;
the rerun equals an uninterrupted run.

Each command first runs once uninterrupted in this process with :mod:`tests.fault_driver`'s
hooks, which count its kill points (zarr writes for predict, segment and decode; optimizer
steps and checkpoint saves for fit). Then, for 5 kill points drawn with a fixed seed, the
command is SIGKILLed there in a subprocess and run again (in this process) the way a user
would: ``fit --resume RUN`` when the killed run left a checkpoint (the same command
otherwise); the same command for the others (each resumes its unfinished output). The final
maps / labels / weights must equal the uninterrupted run's exactly, and the input bytes must
be unchanged.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.infer.predict_fixtures import CONFIG, tiny_checkpoint, tiny_config, tiny_image
from tests.train.helpers import make_volume, tiny_text
from volseg.checkpoint import load_checkpoint
from volseg.io import open_volume, write_volume
from volseg.train.run_dir import run_dirs

ROOT = Path(__file__).resolve().parents[1]
KILLS = 5
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def drive(events: str, kill_at: int, tmp: Path, args: list[str]) -> tuple[int, int, str]:
    """``(return code, events seen, stderr)`` of the command in a subprocess killed at
    ``kill_at``."""
    count = tmp / f"count-{kill_at}-{os.getpid()}"
    cmd = [sys.executable, "-m", "tests.fault_driver", events, str(kill_at), str(count), "--"]
    done = subprocess.run(
        [*cmd, *args], env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    seen = int(count.read_text()) if count.exists() else -1
    return done.returncode, seen, done.stderr


def in_process(events: str, args: list[str]) -> tuple[int, int]:
    """``(exit code, events seen)`` of the command run in this process (reference and reruns)."""
    from tests.fault_driver import install
    from volseg.cli.main import main

    threads = torch.get_num_threads()
    seen, undo = install(events, 0)
    try:
        with pytest.raises(SystemExit) as exc:
            main(args)
    finally:
        undo()
        torch.set_num_threads(threads)
    return int(exc.value.code or 0), seen["n"]


def kill_then_rerun(kill_at: int, tmp: Path, args: list[str], capsys) -> None:
    """SIGKILL the command at its ``kill_at``-th write, then run the same command again in
    this process; it must finish."""
    code, seen, _ = drive("writes", kill_at, tmp, args)
    assert code == -signal.SIGKILL and seen == -1, (kill_at, code)
    code, _ = in_process("writes", args)
    assert code == 0, (kill_at, capsys.readouterr().err)


def kill_points(total: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return sorted(int(k) for k in rng.choice(np.arange(1, total + 1), KILLS, replace=False))


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    for f in sorted(p for p in Path(path).rglob("*") if p.is_file()):
        sha.update(f.name.encode() + f.read_bytes())
    return sha.hexdigest()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_predict_killed_anywhere_then_rerun_gives_the_same_maps(tmp_path, capsys):
    (tmp_path / "cfg.yaml").write_text(CONFIG)
    ckpt = tiny_checkpoint(tmp_path / "model.pt", tiny_config())
    write_volume(tmp_path / "raw.zarr", tiny_image((20, 64, 64)), voxel_size=(10, 5, 5),
                 chunks=(8, 32, 32), levels=1)  # fmt: skip
    before = digest(tmp_path / "raw.zarr")

    def args(out: Path, *extra: str) -> list[str]:
        return ["predict", str(tmp_path / "cfg.yaml"), "--checkpoint", str(ckpt), "--image",
                str(tmp_path / "raw.zarr"), "--out", str(out), "--block-shape", "8,32,32",
                *extra]  # fmt: skip

    code, total = in_process("writes", args(tmp_path / "ref.zarr"))
    assert code == 0
    assert total > KILLS
    reference = open_volume(tmp_path / "ref.zarr").numpy()
    for kill_at in kill_points(total, seed=14):
        out = tmp_path / f"killed-{kill_at}.zarr"
        kill_then_rerun(kill_at, tmp_path, args(out), capsys)
        np.testing.assert_array_equal(open_volume(out).numpy(), reference, err_msg=str(kill_at))
    assert digest(tmp_path / "raw.zarr") == before


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_fit_killed_anywhere_then_resumed_gives_the_same_weights(tmp_path):
    volume = make_volume(tmp_path / "vesicles.zarr")
    before = digest(volume)
    config = tmp_path / "tiny.yaml"
    config.write_text(tiny_text(volume))

    def args(runs: Path, resume: Path | None = None) -> list[str]:
        extra = ["--resume", str(resume)] if resume is not None else []
        return ["fit", str(config), "optimization.max_epochs=3", "--runs", str(runs),
                "--no-progress", *extra]  # fmt: skip

    code, total = in_process("train", args(tmp_path / "ref"))
    assert code == 0
    (ref_run,) = run_dirs(tmp_path / "ref" / "tiny")
    reference = load_checkpoint(ref_run / "checkpoints" / "last.pt")
    for kill_at in kill_points(total, seed=14):
        runs = tmp_path / f"killed-{kill_at}"
        code, _, _ = drive("train", kill_at, tmp_path, args(runs))
        assert code == -signal.SIGKILL, kill_at
        (run_dir,) = run_dirs(runs / "tiny")
        resumable = (run_dir / "checkpoints" / "last.pt").is_file()
        code, _ = in_process("train", args(runs, run_dir if resumable else None))
        assert code == 0, kill_at
        final_dir = run_dir if resumable else run_dirs(runs / "tiny")[-1]
        final = load_checkpoint(final_dir / "checkpoints" / "last.pt")
        assert (final["epoch"], final["step"]) == (reference["epoch"], reference["step"])
        for key, tensor in reference["model_state"].items():
            assert torch.equal(final["model_state"][key], tensor), (kill_at, key)
    assert digest(volume) == before


# Settings that find about 27 instances in the tiny network's maps of the tiny image (its
# binary map lies in 0.17-0.49), so the seeded route's seeds, floods and size filter all work.
SEEDED = """
test:
  decoding:
    - name: contour_distance
      kwargs: {binary_threshold: [0.42, 0.38], contour_threshold: [0.65, null],
               distance_threshold: [0.2, null], min_seed_size: 8}
"""


def segment_files(tmp: Path) -> tuple[Path, str, str]:
    """The tiny config, its checkpoint and the image, for the ``segment`` and blockwise
    ``decode`` kill tests."""
    config = tmp / "cfg.yaml"
    config.write_text(CONFIG + SEEDED)
    ckpt = tiny_checkpoint(tmp / "model.pt", tiny_config())
    image = write_volume(tmp / "raw.zarr", tiny_image((20, 64, 64)), voxel_size=(10, 5, 5),
                         chunks=(8, 32, 32), levels=1)  # fmt: skip
    return config, str(ckpt), str(image.path)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_segment_killed_anywhere_then_rerun_gives_the_same_store(tmp_path, capsys):
    config, ckpt, image = segment_files(tmp_path)
    before = digest(tmp_path / "raw.zarr")

    def args(out: Path) -> list[str]:
        return ["segment", str(config), "--checkpoint", ckpt, "--image", image, "--out",
                str(out), "--block-shape", "8,32,32", "--halo", "4,8,8"]  # fmt: skip

    code, total = in_process("writes", args(tmp_path / "ref.zarr"))
    assert code == 0
    assert total > KILLS
    keys = ("", "maps", "labels/segmentation")
    reference = [open_volume(f"{tmp_path / 'ref.zarr'}:{k}" if k else tmp_path / "ref.zarr").numpy()
                 for k in keys]  # fmt: skip
    assert reference[2].max() > 1  # the labels are not trivial
    capsys.readouterr()
    for kill_at in kill_points(total, seed=15):
        out = tmp_path / f"killed-{kill_at}.zarr"
        kill_then_rerun(kill_at, tmp_path, args(out), capsys)
        for key, ref in zip(keys, reference, strict=True):
            got = open_volume(f"{out}:{key}" if key else out).numpy()
            np.testing.assert_array_equal(got, ref, err_msg=f"{kill_at} {key}")
    assert digest(tmp_path / "raw.zarr") == before


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_blockwise_decode_killed_anywhere_then_rerun_gives_the_same_labels(tmp_path, capsys):
    from volseg.infer.predict import predict

    config, ckpt, image = segment_files(tmp_path)
    maps = tmp_path / "pred.zarr"
    predict(tiny_config(), ckpt, image, maps)  # no thresholds.json: the config's decoder
    before = digest(maps)

    def args(out: Path) -> list[str]:
        return ["decode", str(maps), "--out", str(out), "-c", str(config), "--block-shape",
                "8,32,32", "--halo", "4,8,8"]  # fmt: skip

    code, total = in_process("writes", args(tmp_path / "ref.zarr"))
    assert code == 0
    assert total > KILLS
    reference = open_volume(tmp_path / "ref.zarr").numpy()
    assert reference.max() > 1
    assert "decode blocks: " in capsys.readouterr().out
    for kill_at in kill_points(total, seed=16):
        out = tmp_path / f"killed-{kill_at}.zarr"
        kill_then_rerun(kill_at, tmp_path, args(out), capsys)
        np.testing.assert_array_equal(open_volume(out).numpy(), reference, err_msg=str(kill_at))
    assert digest(maps) == before
