"""Write to a temporary name beside the output, rename on success, clean up on failure.

The one way volseg writes anything that must not be seen half-written: volumes (files or zarr
directories), checkpoints, reports, figures, CSV and JSON. A rename within one directory is
atomic on POSIX file systems, so readers see either the old output or the complete new one.

- :func:`staged` yields the temporary path of a file or directory and moves it into place.
- :func:`atomic_write` / :func:`atomic_write_text` are its file case, always replacing, with
  ``durable=True`` (fsync before the rename) for what must survive a crash (checkpoints).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from volseg.errors import VolsegError

TMP_MARK = ".volseg-tmp-"


def remove(path: Path) -> None:
    """Delete a file or a directory tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def temp_name(final: Path, tag: str = "tmp") -> Path:
    """A hidden sibling of ``final`` that no other writer will pick."""
    return final.parent / f".{final.name}{TMP_MARK.replace('tmp', tag)}{uuid.uuid4().hex[:12]}"


def refuse_existing(final: Path, *, overwrite: bool, what: str | None = None) -> None:
    """Raise if ``final`` exists and ``overwrite`` is false."""
    if final.exists() and not overwrite:
        raise VolsegError(f"{what or final} already exists; use --overwrite to replace it.")


def _swap_in(tmp: Path, final: Path) -> None:
    """Move ``tmp`` onto ``final``; a directory in the way is set aside first and restored on
    failure (``os.replace`` swaps files in one step but cannot replace a non-empty directory)."""
    if not final.is_dir() or final.is_symlink():
        os.replace(tmp, final)
        return
    old = temp_name(final, "old")
    os.replace(final, old)
    try:
        os.replace(tmp, final)
    except BaseException:
        os.replace(old, final)
        remove(tmp)
        raise
    remove(old)


@contextmanager
def staged(final: Path, *, overwrite: bool, what: str | None = None) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``final``, on error it is deleted.

    Args:
        final: the output file or directory.
        overwrite: replace an existing ``final``; otherwise an existing ``final`` is an error.
        what: how to name the output in the error message (default: ``final``).
    """
    final = Path(final)
    refuse_existing(final, overwrite=overwrite, what=what)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VolsegError(
            f"cannot write the output {what or final}: {exc.strerror or exc}."
        ) from None
    tmp = temp_name(final)
    try:
        yield tmp
    except OSError as exc:
        remove(tmp)
        if exc.filename is not None and TMP_MARK in str(exc.filename):
            # the temporary name means nothing to the user: name the output instead
            raise VolsegError(
                f"cannot write the output {what or final}: {exc.strerror or exc}."
            ) from None
        raise
    except BaseException:
        remove(tmp)
        raise
    if not tmp.exists():
        raise VolsegError(f"nothing was written for {what or final}.")
    _swap_in(tmp, final)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[str], None], *, durable: bool = False
) -> Path:
    """Call ``write(tmp_path)`` and move the file onto ``path`` only if it succeeds.

    An existing ``path`` is replaced, and left untouched when ``write`` fails. With ``durable``
    the file is flushed to disk before the rename, so a crash right after leaves the new file
    or the old one, never an empty one.
    """
    path = Path(path)
    with staged(path, overwrite=True) as tmp:
        write(str(tmp))
        if durable and tmp.exists():
            _fsync(tmp)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
