"""Write to a temporary name beside the output, rename on success, clean up on failure.

A rename within one directory is atomic on POSIX file systems, so readers see either the old
output or the complete new one, never a half-written one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
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
        raise VolsegError(f"{what or final} already exists; pass overwrite=True to replace it.")


@contextmanager
def staged(final: Path, *, overwrite: bool, what: str | None = None) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``final``, on error it is deleted.

    Args:
        final: the output file or directory.
        overwrite: replace an existing ``final``; otherwise an existing ``final`` is an error.
        what: how to name the output in the error message (default: ``final``).
    """
    refuse_existing(final, overwrite=overwrite, what=what)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(final)
    try:
        yield tmp
    except BaseException:
        remove(tmp)
        raise
    if not tmp.exists():
        raise VolsegError(f"nothing was written for {what or final}.")
    if final.exists():
        old = temp_name(final, "old")
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)
            remove(tmp)
            raise
        remove(old)
    else:
        os.replace(tmp, final)
