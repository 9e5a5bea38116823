import pytest

from volseg.errors import VolsegError
from volseg.io.atomic import staged


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
    with pytest.raises(VolsegError, match="out already exists; pass overwrite=True"):
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
