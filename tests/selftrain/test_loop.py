"""``selftrain`` end to end: 2 iterations on synthetic vesicles (about 16 s once)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.selftrain.helpers import write_inputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def selftrained(tmp_path_factory: pytest.TempPathFactory):
    """``(out, config path, unlabelled path, notes)``."""
    import torch

    from volseg.config import load
    from volseg.selftrain import selftrain

    folder = tmp_path_factory.mktemp("selftrain")
    config, unlabelled = write_inputs(folder)
    notes: list[str] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = selftrain(load(config), [str(unlabelled)], folder / "out", echo=notes.append)
    finally:
        torch.set_num_threads(threads)
    return out, config, unlabelled, notes


def test_folder_layout(selftrained) -> None:
    out, _, _, notes = selftrained
    names = sorted(p.name for p in out.iterdir())
    assert names == ["baseline", "iter-0", "iter-1", "iter-2", "masks", "selftrain.json",
                     "split.json", "summary.csv", "summary.md", "summary.png"]  # fmt: skip
    for k in (1, 2):
        it = out / f"iter-{k}"
        assert {"metrics.json", "figure.png", "pseudo-0.zarr", "split.json"} <= {
            p.name for p in it.iterdir()
        }
        runs = list((it / "runs" / "tiny").glob("2*"))
        assert len(runs) == 1 and (runs[0] / "checkpoints" / "last.pt").is_file()
    assert "iteration 2: pseudo-labels at t_hi 0.55, t_lo 0.45" in notes
    assert any(n.startswith("initial weights from ") and "iter-1" in n for n in notes)


def test_never_validates_on_pseudo_labels(selftrained) -> None:
    out, _, unlabelled, _ = selftrained
    base = json.loads((out / "split.json").read_text())
    split = json.loads((out / "iter-2" / "split.json").read_text())
    assert split["val"] == base["val"] and all(r["volume"] == 0 for r in split["val"])
    assert split["volumes"][1]["image"] == str(unlabelled)
    assert split["volumes"][1]["label"].endswith("iter-2/pseudo-0.zarr/labels/pseudo")
    whole = {"volume": 1, "z": [0, 32], "y": [0, 64], "x": [0, 64]}
    assert split["train"] == [*base["train"], whole]
    run = next((out / "iter-2" / "runs" / "tiny").glob("2*"))
    assert json.loads((run / "split.json").read_text())["val"] == base["val"]


def test_metrics_scored_against_the_original_gt_on_the_fixed_region(selftrained) -> None:
    from volseg.decode.registry import decode
    from volseg.io import open_volume
    from volseg.metrics.evaluate import evaluate_arrays

    out, config, _, _ = selftrained
    base = json.loads((out / "split.json").read_text())
    gt_path = base["volumes"][0]["label"]
    assert gt_path == f"{config.parent / 'labelled.zarr'}/labels/vesicles"
    for folder in ("iter-0", "iter-1", "iter-2", "baseline"):
        metrics = json.loads((out / folder / "metrics.json").read_text())
        assert metrics["scored_against"] == "original ground truth"
        (region,) = metrics["regions"]
        assert region["region"] == base["val"][0] and region["ground_truth"] == gt_path
        box = tuple(slice(*region["region"][a]) for a in "zyx")
        maps = np.asarray(open_volume(out / folder / "labelled-0-maps.zarr").data[...])[:, *box]
        seg = decode(maps, region["decoder"]["name"], region["decoder"]["params"])
        gt = np.asarray(open_volume(gt_path).data[box])
        again = evaluate_arrays(seg, gt, metrics=("adapted_rand",))
        got = region["scores"]["adapted_rand_with_bg"]["are"]
        assert got == pytest.approx(again["adapted_rand_with_bg"]["are"])


def test_summary_has_every_iteration_and_the_baseline(selftrained) -> None:
    out, _, _, _ = selftrained
    lines = (out / "summary.csv").read_text().splitlines()
    assert lines[0].startswith("stage,steps,t_hi,t_lo,pseudo_fg,pseudo_ignored,fg_iou")
    stages = [(ln.split(",")[0], ln.split(",")[1]) for ln in lines[1:]]
    # every stage trains selftrain.steps (2), the supervised one too; the baseline the sum
    assert stages == [("supervised", "2"), ("iteration 1", "4"), ("iteration 2", "6"),
                      ("baseline", "6")]  # fmt: skip
    assert "| baseline | 6 |" in (out / "summary.md").read_text()


def test_class_balanced_thresholds_reach_the_pseudo_labels(tmp_path) -> None:
    """One class-balanced iteration: the thresholds used are the map's own, recorded in the
    iteration's metrics and in the pseudo-label store."""
    import torch

    from volseg.config import load
    from volseg.io import open_volume
    from volseg.selftrain import selftrain

    config, unlabelled = write_inputs(tmp_path)
    cfg = load(config, ["selftrain.thresholds=class_balanced", "selftrain.iterations=1",
                        "selftrain.proportion=[0.3,0.3]"])  # fmt: skip
    notes: list[str] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = selftrain(cfg, [str(unlabelled)], tmp_path / "out", echo=notes.append)
    finally:
        torch.set_num_threads(threads)
    assert any("class-balanced to the top 30% of each class" in n for n in notes)
    used = [n for n in notes if "class-balanced thresholds" in n]
    assert len(used) == 1
    metrics = json.loads((out / "iter-1" / "metrics.json").read_text())
    labels = open_volume(out / "iter-1" / "pseudo-0.zarr" / "labels" / "pseudo")
    assert labels.attrs["t_hi"] == metrics["t_hi"] and labels.attrs["t_lo"] == metrics["t_lo"]
    assert f"t_hi {metrics['t_hi']}, t_lo {metrics['t_lo']}" in used[0]
    assert 0.5 <= metrics["t_hi"] <= cfg.selftrain.t_hi[0]
    assert cfg.selftrain.t_lo[0] <= metrics["t_lo"] < 0.5
