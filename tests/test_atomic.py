from pathlib import Path

import pytest

from volseg.atomic import atomic_write, atomic_write_text, staged
from volseg.errors import VolsegError


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_success_renames_into_place(tmp_path):
    final = tmp_path / "sub" / "out.zarr"
    with staged(final, overwrite=False) as tmp:
        assert tmp.parent == final.parent and tmp.name.startswith(".out.zarr.volseg-tmp-")
        tmp.mkdir()
        (tmp / "f").write_text("new")
    assert (final / "f").read_text() == "new" and _siblings(final) == ["out.zarr"]


def test_failure_leaves_nothing(tmp_path):
    final = tmp_path / "out.h5"
    with pytest.raises(RuntimeError, match="boom"):
        with staged(final, overwrite=False) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_existing_output(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "f").write_text("old")
    with pytest.raises(VolsegError, match="out already exists; use --overwrite"):
        with staged(final, overwrite=False):
            pass
    with pytest.raises(RuntimeError):
        with staged(final, overwrite=True) as tmp:
            tmp.mkdir()
            raise RuntimeError("boom")
    assert (final / "f").read_text() == "old" and _siblings(final) == ["out"]
    with staged(final, overwrite=True) as tmp:
        tmp.mkdir()
        (tmp / "g").write_text("new")
    assert [p.name for p in final.iterdir()] == ["g"] and _siblings(final) == ["out"]


def test_nothing_written_is_an_error(tmp_path):
    with pytest.raises(VolsegError, match="nothing was written"):
        with staged(tmp_path / "x", overwrite=False):
            pass


def test_staged_file_replaces_in_one_step(tmp_path, monkeypatch):
    """A file is swapped by one os.replace: no moment without ``final`` on disk."""
    import os

    final = tmp_path / "a.json"
    final.write_text("old")
    calls = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append((a, b)), real(a, b)))
    with staged(final, overwrite=True) as tmp:
        tmp.write_text("new")
    assert final.read_text() == "new" and len(calls) == 1
    assert _siblings(final) == ["a.json"]


def test_atomic_write_replaces_and_keeps_old_on_failure(tmp_path):
    path = atomic_write_text(tmp_path / "sub" / "x.txt", "one")
    assert path.read_text() == "one"
    atomic_write(path, lambda tmp: Path(tmp).write_text("two"), durable=True)
    assert path.read_text() == "two"

    def broken(tmp):
        Path(tmp).write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, broken)
    assert path.read_text() == "two" and _siblings(path) == ["x.txt"]


def test_errors_on_the_temporary_name_name_the_output(tmp_path):
    """Issue 14 row 12: a read-only folder gave errors naming the hidden temporary file."""
    final = tmp_path / "out.zarr"
    with pytest.raises(VolsegError, match=r"^cannot write .*out\.zarr: Permission denied\.$"):
        with staged(final, overwrite=False) as tmp:
            raise PermissionError(13, "Permission denied", str(tmp))
    assert not final.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(PermissionError):  # an error about another file passes through
        with staged(final, overwrite=False):
            raise PermissionError(13, "Permission denied", "/elsewhere")
