"""One training process per run directory: an advisory lock on ``<run>/.lock``.

Two ``volseg fit --resume RUN`` at once would interleave ``train.log``, duplicate rows of
``metrics.csv`` and race on the checkpoints. The lock is an ``flock`` on a file in the run
directory: the operating system releases it when the process ends, however it ends (a killed
run never leaves a stale lock behind), and the file records who holds it for the message.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from volseg.errors import VolsegError

LOCK = ".lock"


@contextmanager
def run_lock(run_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of ``run_dir`` while the block runs.

    Raises:
        VolsegError: another process trains in ``run_dir`` (its pid and start time are named).
    """
    import fcntl

    path = Path(run_dir) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise VolsegError(
                f"run directory {run_dir} is in use by {holder}; wait for that run to finish "
                "(or stop it) before resuming it."
            ) from None
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"volseg process {os.getpid()} (since {stamp})".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
