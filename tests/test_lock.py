"""One process at a time per output: a second writer is refused in one sentence; the lock is
re-entrant within a process and gone when its holder dies."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from volseg.errors import VolsegError
from volseg.lock import output_lock

ROOT = Path(__file__).resolve().parents[1]

HOLDER = """
import sys, time
from volseg.lock import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def holder(out: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_process_writing_the_same_output_is_refused(tmp_path):
    out = tmp_path / "pred.zarr"
    proc = holder(out)
    try:
        for spelling in (out, f"{out}:maps", f"{out}/labels/segmentation"):
            with pytest.raises(VolsegError, match=r"is being written by volseg process \d+"):
                with output_lock(spelling):
                    pass
    finally:
        proc.kill()
        proc.wait()
    with output_lock(out):  # released with the process, however it ended
        pass


def test_the_lock_is_reentrant_in_one_process(tmp_path):
    out = tmp_path / "seg.zarr"
    with output_lock(out), output_lock(f"{out}:maps"), output_lock(out):
        pass
    with output_lock(out):
        pass


def test_predict_refuses_an_output_another_process_writes(tmp_path):
    from tests.infer.predict_fixtures import tiny_checkpoint, tiny_config, tiny_image, write_image
    from volseg.infer.predict import predict

    cfg = tiny_config()
    ckpt = tiny_checkpoint(tmp_path / "m.pt", cfg)
    path = write_image(tmp_path / "image.zarr", tiny_image((8, 32, 32)))
    out = tmp_path / "pred.zarr"
    proc = holder(out)
    try:
        with pytest.raises(VolsegError, match="wait for it to finish"):
            predict(cfg, ckpt, path, out, overwrite=True)
        assert not out.exists()
    finally:
        proc.kill()
        proc.wait()
    time.sleep(0.1)
    predict(cfg, ckpt, path, out)


def test_locks_output_holds_the_named_argument(tmp_path):
    from volseg.lock import locks_output

    @locks_output("out")
    def write(data, out, *, flag=False):
        """doc"""
        return out

    assert write.__doc__ == "doc"
    proc = holder(tmp_path / "busy.zarr")
    try:
        with pytest.raises(VolsegError, match="is being written"):
            write(1, out=tmp_path / "busy.zarr")
        assert write(1, tmp_path / "free.zarr") == tmp_path / "free.zarr"
    finally:
        proc.kill()
        proc.wait()
