"""Run one ``volseg`` command and SIGKILL it at its N-th event (a test helper, never shipped).

Usage: ``python -m tests.fault_driver EVENTS KILL_AT COUNT_FILE -- volseg-args...``

``EVENTS`` picks what counts as a kill point: ``writes`` (every write into a zarr array, before
it happens: predict's chunk writes and store creation) or ``train`` (every optimizer step after
it happens, and every ``torch.save`` both before and after writing: checkpoint saves).
``KILL_AT`` 0 never kills; the number of events seen is written to ``COUNT_FILE`` at exit, so
a first uninterrupted run tells the test how many kill points there are.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path


def install(events: str, kill_at: int) -> tuple[dict[str, int], Callable[[], None]]:
    """Count (and at ``kill_at`` SIGKILL on) ``events``; returns the counter and an undo."""
    seen = {"n": 0}

    def event(*_: object, **__: object) -> None:
        seen["n"] += 1
        if seen["n"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    if events == "writes":
        import zarr

        original = zarr.Array.__setitem__

        def setitem(self, key, value):
            event()
            return original(self, key, value)

        zarr.Array.__setitem__ = setitem

        def undo() -> None:
            zarr.Array.__setitem__ = original

        return seen, undo
    if events == "train":
        import torch
        from torch.optim.optimizer import register_optimizer_step_post_hook

        handle = register_optimizer_step_post_hook(event)
        save = torch.save

        def saving(*args, **kwargs):
            event()
            save(*args, **kwargs)
            event()

        torch.save = saving

        def undo() -> None:
            handle.remove()
            torch.save = save

        return seen, undo
    raise SystemExit(f"unknown events {events!r}")


def main() -> None:
    events, kill_at, count_file = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    seen, _ = install(events, kill_at)
    from volseg.cli.main import main as volseg

    try:
        volseg(argv)
    finally:
        count_file.write_text(str(seen["n"]))


if __name__ == "__main__":
    main()
