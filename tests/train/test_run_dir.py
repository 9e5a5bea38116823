"""Run directory layout, config history on resume, and resume errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from volseg.errors import VolsegError
from volseg.train import run_dir as rd


def test_new_run_dirs_never_collide(tmp_path: Path) -> None:
    now = dt.datetime(2025, 3, 4, 5, 6, 7)
    a = rd.new_run_dir(tmp_path, "exp", now=now)
    b = rd.new_run_dir(tmp_path, "exp", now=now)
    assert a == tmp_path / "exp" / "20250304-050607"
    assert b == tmp_path / "exp" / "20250304-050607-1"
    assert (a / "checkpoints").is_dir() and (a / "figures").is_dir()


def test_config_history(tmp_path: Path) -> None:
    rd.write_config(tmp_path, {"a": 1})
    rd.write_config(tmp_path, {"a": 1})
    assert not (tmp_path / "config.1.yaml").exists()
    rd.write_config(tmp_path, {"a": 2})
    assert yaml.safe_load((tmp_path / "config.yaml").read_text()) == {"a": 2}
    assert yaml.safe_load((tmp_path / "config.1.yaml").read_text()) == {"a": 1}


def test_resume_errors(tmp_path: Path) -> None:
    with pytest.raises(VolsegError, match="is not a run directory"):
        rd.last_checkpoint(tmp_path / "nope")
    with pytest.raises(VolsegError, match="has no checkpoints/last.pt"):
        rd.last_checkpoint(tmp_path)
    with pytest.raises(VolsegError, match="has no split.json"):
        rd.split_path(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"x")
    assert rd.last_checkpoint(tmp_path) == tmp_path / "checkpoints" / "last.pt"


def test_latest_link_follows_the_newest_finished_run(tmp_path: Path) -> None:
    now = dt.datetime(2025, 3, 4, 5, 6, 7)
    a = rd.new_run_dir(tmp_path, "exp", now=now)
    b = rd.new_run_dir(tmp_path, "exp", now=now)
    link = rd.mark_latest(a)
    assert link == tmp_path / "exp" / "latest" and link.resolve() == a.resolve()
    assert Path(link.readlink()) == Path(a.name)  # relative: the runs folder may move
    rd.mark_latest(b)
    assert link.resolve() == b.resolve()
    assert rd.run_dirs(tmp_path / "exp") == [a, b]  # the link is not a run
    assert sorted(p.name for p in (tmp_path / "exp").iterdir()) == [a.name, b.name, "latest"]
    assert rd.run_dirs(tmp_path / "nothing") == []


def test_missing_latest_says_to_train_first() -> None:
    hint = rd.missing_latest_hint("runs/hydra-lv/latest/checkpoints/best.pt")
    assert "No run of experiment 'hydra-lv' has finished yet" in hint
    assert rd.missing_latest_hint("runs/hydra-lv/2025/checkpoints/best.pt") == ""
