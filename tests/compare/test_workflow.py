"""``compare`` end to end: trained on one split, collected, and every refusal before writing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.train.helpers import tiny_text
from volseg.compare import compare
from volseg.errors import VolsegError

pytestmark = pytest.mark.slow  # every test here uses the trained comparison (about 10 s once)


def copy_run(run_dir: Path, dest: Path) -> Path:
    return Path(shutil.copytree(run_dir, dest / run_dir.parent.name / run_dir.name))


def test_trained_on_one_split_with_one_seed_and_length(compared) -> None:
    out, configs, run_dirs, notes = compared
    assert sorted(p.name for p in out.iterdir()) == ["curves.png", "table.csv", "table.md"]
    assert len(run_dirs) == 2 and [d.parent.name for d in run_dirs] == [
        "tiny_rsunet", "tiny_attention",
    ]  # fmt: skip
    splits = [(d / "split.json").read_text() for d in run_dirs]
    assert splits[0] == splits[1]
    assert notes[0] == f"training {configs[0]} (4 steps, seed 3)"


def test_collected_runs_give_the_same_table(compared, tmp_path: Path) -> None:
    out, _, run_dirs, _ = compared
    again = compare(run_dirs, tmp_path / "again")
    assert (again / "table.csv").read_text() == (out / "table.csv").read_text()


def test_different_splits_refused_nothing_written(compared, tmp_path: Path) -> None:
    _, _, run_dirs, _ = compared
    other = copy_run(run_dirs[1], tmp_path)
    split = json.loads((other / "split.json").read_text())
    split["val"][0]["z"][0] -= 1
    (other / "split.json").write_text(json.dumps(split))
    with pytest.raises(VolsegError, match="were trained on different splits") as info:
        compare([run_dirs[0], other], tmp_path / "out")
    assert str(run_dirs[0]) in str(info.value) and str(other) in str(info.value)
    assert "validation regions" in str(info.value)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny_attention"]


@pytest.mark.parametrize("what", ["seed", "steps"])
def test_different_seed_or_steps_refused(compared, tmp_path: Path, what: str) -> None:
    _, _, run_dirs, _ = compared
    other = copy_run(run_dirs[1], tmp_path)
    if what == "seed":
        config = yaml.safe_load((other / "config.yaml").read_text())
        config["system"]["seed"] = 4
        (other / "config.yaml").write_text(yaml.safe_dump(config))
        words = r"different seeds \(3 and 4\)"
    else:  # a run stopped after its first epoch: 2 of the 4 steps
        lines = (other / "metrics.csv").read_text().splitlines()
        kept = [ln for ln in lines if not ln.startswith(("3,", "4,"))]
        (other / "metrics.csv").write_text("\n".join(kept) + "\n")
        words = r"different numbers of steps \(4 and 2\)"
    with pytest.raises(VolsegError, match=words):
        compare([run_dirs[0], other], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_configs_checked_before_any_training(compared, compare_volume: Path, tmp_path) -> None:
    _, _, run_dirs, _ = compared
    config = tmp_path / "never.yaml"
    config.write_text(tiny_text(compare_volume))  # full_val_every_n_epochs: 0
    runs = tmp_path / "runs"
    with pytest.raises(VolsegError, match=r"never\.yaml never computes val/map_fg_iou"):
        compare([run_dirs[0], config], tmp_path / "out", run_root=runs)
    with pytest.raises(VolsegError, match=r"--seed 5 differs from run .* \(3\)"):
        compare([run_dirs[0], config], tmp_path / "out", seed=5, run_root=runs)
    with pytest.raises(VolsegError, match=r"--steps 6 differs from run .* \(4\)"):
        compare([run_dirs[0], config], tmp_path / "out", steps=6, run_root=runs)
    shifted = json.loads((run_dirs[0] / "split.json").read_text())
    shifted["train"][0]["z"][1] -= 1
    (tmp_path / "split.json").write_text(json.dumps(shifted))
    with pytest.raises(VolsegError, match=r"--split .* and run .* are different splits"):
        compare([run_dirs[0]], tmp_path / "out", split=tmp_path / "split.json")
    with pytest.raises(VolsegError, match="neither a config file nor a run directory"):
        compare([run_dirs[0], tmp_path / "missing.yaml"], tmp_path / "out")
    assert not runs.exists() and not (tmp_path / "out").exists()


def test_existing_output(compared, tmp_path: Path) -> None:
    _, _, run_dirs, _ = compared
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(VolsegError, match="already exists; use --overwrite"):
        compare(run_dirs, out)
    with pytest.raises(VolsegError, match="not an earlier comparison"):
        compare(run_dirs, out, overwrite=True)
    with pytest.raises(VolsegError, match="volseg never writes into its own input"):
        compare(run_dirs, run_dirs[0] / "figures", overwrite=True)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    done = compare(run_dirs, tmp_path / "cmp")
    compare(run_dirs, done, overwrite=True, metric="val_loss", smooth=2)
    assert "best val/patch_loss" in (done / "table.md").read_text()
