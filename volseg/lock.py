"""Advisory locks: one volseg process at a time per run directory or output.

Two processes writing one place (``fit --resume`` twice, or two ``predict`` runs into one
output, one of them with ``--overwrite``) would mix their results while both report success.
A lock is an ``flock`` on a small file: the operating system releases it when the process
ends, however it ends (a killed run never leaves a stale lock), and the file says who holds it
for the message. Output locks are re-entrant within a process (``segment`` holds its store's
lock while the ``predict`` it calls asks for the same one); run-directory locks are not.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from volseg.errors import VolsegError

_HELD: dict[str, int] = {}
_GUARD = threading.Lock()


@contextmanager
def hold(
    path: str | os.PathLike[str], busy: Callable[[str], str], *, reentrant: bool = False
) -> Iterator[Path]:
    """Hold the lock file ``path`` while the block runs.

    Args:
        path: the lock file (created if missing; its folder must exist).
        busy: the message when another holder has it, given who holds it.
        reentrant: a holder in this process lets this one in too.

    Raises:
        VolsegError: another process holds the lock.
    """
    import fcntl

    path = Path(path)
    key = os.path.realpath(path)
    with _GUARD:
        if reentrant and key in _HELD:
            _HELD[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield path
        finally:
            with _GUARD:
                _HELD[key] -= 1
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise VolsegError(busy(holder)) from None
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"volseg process {os.getpid()} (since {stamp})".encode(), 0)
        with _GUARD:
            _HELD[key] = 1
        try:
            yield path
        finally:
            with _GUARD:
                del _HELD[key]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def output_lock(out: str | os.PathLike[str]) -> Iterator[Path | None]:
    """Hold the lock of an output container (``x.zarr``, ``x.zarr:key``, ``x.h5``) while
    writing it: a hidden file beside the container, so it outlives an ``--overwrite`` that
    deletes the container. Where that folder cannot be written, nothing is locked (the write
    itself then fails with its own message)."""
    from volseg.io.guard import place

    target = place(out)
    if target is None:  # a URL: no local lock
        yield None
        return
    container = target.path
    lock = container.parent / f".{container.name}.volseg-lock"
    try:
        container.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(lock, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError:
        yield None
        return

    def busy(holder: str) -> str:
        return (
            f"{container} is being written by {holder}; wait for it to finish (or stop it) "
            "before writing there again."
        )

    with hold(lock, busy, reentrant=True) as path:
        yield path


F = TypeVar("F", bound=Callable[..., Any])


def locks_output(argument: str) -> Callable[[F], F]:
    """Decorate a function that writes the output named by its parameter ``argument`` so it
    runs holding :func:`output_lock` on it."""

    def wrap(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            out = signature.bind(*args, **kwargs).arguments[argument]
            with output_lock(out):
                return fn(*args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap
