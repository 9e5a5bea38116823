"""Which runs ``check_comparable`` refuses, and the sentence it says (no training)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from volseg.compare.runs import Run, check_comparable, name_runs, resolve_metric
from volseg.errors import VolsegError

SPLIT = {
    "volumes": [{"image": "/d/v.zarr", "label": "/d/v.zarr/labels/vesicles", "mask": None,
                 "shape": [32, 64, 64], "voxel_size": [30.0, 8.0, 8.0], "role": "train",
                 "stats": {"mean": 0.5}}],
    "train": [{"volume": 0, "z": [0, 20], "y": [0, 64], "x": [0, 64]}],
    "val": [{"volume": 0, "z": [24, 32], "y": [0, 64], "x": [0, 64]}],
}  # fmt: skip


def make_run(name: str, *, seed: int = 3, steps: int = 4, split: dict | None = None) -> Run:
    rows = [{"step": float(s), "epoch": 1.0 + (s > 2), "train/loss": 1.0 / s} for s in (1, 2, 3)]
    rows += [{"step": float(steps), "epoch": 2.0, "val/map_fg_iou": 0.5, "val/are": 0.2}]
    config = {"experiment_name": name, "system": {"seed": seed}, "model": {}}
    return Run(Path(f"/runs/{name}/1"), config, copy.deepcopy(split or SPLIT), rows, name)


def test_same_split_seed_steps_pass() -> None:
    check_comparable([make_run("a"), make_run("b")], "val/map_fg_iou")


def test_image_statistics_are_not_the_split() -> None:
    other = copy.deepcopy(SPLIT)
    other["volumes"][0]["stats"] = {"mean": 0.7}  # another image_transform: not another split
    check_comparable([make_run("a"), make_run("b", split=other)], "val/map_fg_iou")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s["val"][0].update(z=[20, 32]), "validation regions are"),
        (lambda s: s["train"][0].update(z=[0, 16]), "training regions are"),
        (lambda s: s["volumes"][0].update(image="/d/w.zarr"), "volume 0 has image"),
        (lambda s: s["volumes"].append(dict(s["volumes"][0])), "1 and 2 volumes"),
    ],
)
def test_different_splits_refused(change, words: str) -> None:
    other = copy.deepcopy(SPLIT)
    change(other)
    with pytest.raises(VolsegError, match="different splits") as info:
        check_comparable([make_run("a"), make_run("b", split=other)], "val/map_fg_iou")
    message = str(info.value)
    assert words in message and "/runs/a/1" in message and "/runs/b/1" in message
    assert message.count(". ") == 0 and "\n" not in message  # one sentence


def test_different_seed_or_steps_refused() -> None:
    with pytest.raises(VolsegError, match=r"different seeds \(3 and 4\)"):
        check_comparable([make_run("a"), make_run("b", seed=4)], "val/map_fg_iou")
    with pytest.raises(VolsegError, match=r"different numbers of steps \(4 and 6\)"):
        check_comparable([make_run("a"), make_run("b", steps=6)], "val/map_fg_iou")


def test_metric_never_logged_refused() -> None:
    with pytest.raises(VolsegError, match="run /runs/a/1 logged no val/f1_50"):
        check_comparable([make_run("a"), make_run("b")], "val/f1_50")


def test_metric_aliases_and_names() -> None:
    assert resolve_metric("val_iou") == "val/map_fg_iou"
    assert resolve_metric("val/are") == "val/are"
    with pytest.raises(VolsegError, match="--metric 'val_iuo' is not a logged value"):
        resolve_metric("val_iuo")
    runs = [make_run("a"), make_run("a"), make_run("b")]
    runs[1].run_dir = Path("/runs/a/2")
    name_runs(runs)
    assert [r.name for r in runs] == ["a/1", "a/2", "b"]
