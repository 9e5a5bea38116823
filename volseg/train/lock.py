"""One training process per run directory: an advisory lock on ``<run>/.lock``.

Two ``volseg fit --resume RUN`` at once would interleave ``train.log``, duplicate rows of
``metrics.csv`` and race on the checkpoints. The lock is an ``flock`` on a file in the run
directory: the operating system releases it when the process ends, however it ends (a killed
run never leaves a stale lock behind), and the file records who holds it for the message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from volseg.lock import hold

LOCK = ".lock"


@contextmanager
def run_lock(run_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of ``run_dir`` while the block runs (:func:`volseg.lock.hold`).

    Raises:
        VolsegError: another process trains in ``run_dir`` (its pid and start time are named).
    """

    def busy(holder: str) -> str:
        return (
            f"run directory {run_dir} is in use by {holder}; wait for that run to finish "
            "(or stop it) before resuming it."
        )

    with hold(Path(run_dir) / LOCK, busy) as path:
        yield path
