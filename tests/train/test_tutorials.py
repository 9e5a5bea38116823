"""Every tutorial config trains for a few iterations (PyTorch Connectomics broke its tutorials
with schema changes; here CI runs each one). Overrides shrink the network, patches, epochs and
validation region so that each run takes seconds on a CPU; everything else is the tutorial's.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.train.helpers import make_volume
from volseg.checkpoint import load_checkpoint
from volseg.config import load
from volseg.errors import VolsegError
from volseg.train import fit
from volseg.train.logger import read_csv

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
TUTORIALS = sorted((REPO / "tutorials").glob("*.yaml"))

COMMON = [
    "system.training.num_cpus=1",
    "system.training.num_workers=0",
    "system.training.batch_size=1",
    "data.iter_num_per_epoch=2",
    "optimization.max_epochs=2",
    "optimization.scheduler.warmup_epochs=1",
    "monitor.full_val_every_n_epochs=2",
    "monitor.logging.figures_every_n_epochs=2",
]
HYDRA = [
    "model.filters=[4,4,8,8,8]",
    "model.input_size=[8,32,32]",
    "inference.sliding_window.window_size=[8,32,32]",
]
SHRINK = {
    "hydra-lv": HYDRA,
    "hydra-lv-finetune": HYDRA,
    "lucchi-mito": [
        "model.filters=[4,8,8,8]",
        "model.input_size=[1,128,128]",
        "inference.sliding_window.window_size=[1,128,128]",
        "data.val_region=[[76,82],[0,384],[0,256]]",  # a box: apart in x too
    ],
    "neuroproof-neurons": [
        "model.filters=[4,4,4,4]",
        "model.input_size=[8,64,64]",
        "inference.sliding_window.window_size=[8,64,64]",
        "inference.sliding_window.overlap=0.25",
        "data.val_region=[242,250]",
    ],
    "neuroproof-affinities": [
        "model.filters=[4,4,4,4]",
        "model.input_size=[16,64,64]",  # the 9-voxel offsets fit the patch
        "inference.sliding_window.window_size=[16,64,64]",
        "inference.sliding_window.overlap=0.25",
        "data.val_region=[234,250]",
    ],
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository root as the hydra-lv tutorials expect it: ``tutorials/`` with the two
    configs, ``data/`` with what ``volseg synth vesicles`` writes (smaller), ``runs/``."""
    root = tmp_path_factory.mktemp("repo")
    (root / "tutorials").mkdir()
    for name in ("hydra-lv", "hydra-lv-finetune"):
        text = (REPO / "tutorials" / f"{name}.yaml").read_text()
        (root / "tutorials" / f"{name}.yaml").write_text(text)
    make_volume(root / "data" / "vesicles.zarr", shape=(32, 96, 96))
    make_volume(root / "data" / "vesicles-b.zarr", shape=(32, 96, 96), seed=2)
    return root


@pytest.fixture(scope="module")
def pretrained(workspace: Path) -> Path:
    """A hydra-lv run, whose best weights hydra-lv-finetune starts from."""
    return train("hydra-lv", workspace)


def train(name: str, workspace: Path, root: Path | None = None) -> Path:
    """``volseg fit tutorials/<name>.yaml`` (shrunk), from the repository root (``workspace``
    for the hydra-lv pair, whose relative paths then resolve as typed; the real repository,
    with ``root`` for the runs, for the others)."""
    home = workspace if name.startswith("hydra-lv") else REPO
    cfg = load(home / "tutorials" / f"{name}.yaml", COMMON + SHRINK[name])
    return fit(cfg, run_root=root or workspace / "runs", progress=False)


def test_every_tutorial_has_shrink_overrides() -> None:
    assert {p.stem for p in TUTORIALS} == set(SHRINK)


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_trains(path: Path, workspace: Path, pretrained: Path, tmp_path: Path) -> None:
    name = path.stem
    if name == "hydra-lv":
        run_dir = pretrained
    else:
        if not name.startswith("hydra-lv") and not DATA.is_dir():  # CI has ../shared; never skip
            pytest.fail(f"{DATA} is missing; the real-data tutorials need it")
        # hydra-lv-finetune as typed: its weights come through runs/hydra-lv/latest
        run_dir = train(name, workspace, None if name.startswith("hydra-lv") else tmp_path)
    assert run_dir.parent.name == load(path).experiment_name
    for item in ("config.yaml", "split.json", "metrics.csv", "train.log"):
        assert (run_dir / item).is_file(), item
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    figures = sorted(p.name for p in (run_dir / "figures").iterdir())
    assert figures == ["curves.png", "patch_epoch0002.png", "region_epoch0002.png"]
    final = [r for r in read_csv(run_dir / "metrics.csv") if "train/epoch_loss" in r][-1]
    assert final["epoch"] == 2 and final["step"] == 4
    for key in ("val/patch_loss", "val/map_fg_iou", "train/epoch_loss"):
        assert math.isfinite(final[key]), key
    assert 0.0 <= final["val/map_fg_iou"] <= 1.0 and 0.0 <= final["val/are"] <= 1.0
    ckpt = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert ckpt["config"]["experiment_name"] == name
    assert (run_dir.parent / "latest").resolve() == run_dir.resolve()
    if name == "hydra-lv-finetune":
        log = (run_dir / "train.log").read_text()
        started = pretrained.resolve() / "checkpoints" / "best.pt"  # the file, not the link
        assert f"initial weights from {started}" in log
        assert load(run_dir / "config.yaml").model.external_weights_path == str(started)


def test_finetune_before_pretraining_says_train_first(tmp_path: Path) -> None:
    (tmp_path / "tutorials").mkdir()
    for name in ("hydra-lv", "hydra-lv-finetune"):
        text = (REPO / "tutorials" / f"{name}.yaml").read_text()
        (tmp_path / "tutorials" / f"{name}.yaml").write_text(text)
    make_volume(tmp_path / "data" / "vesicles-b.zarr", shape=(16, 64, 64))
    cfg = load(tmp_path / "tutorials" / "hydra-lv-finetune.yaml", COMMON + HYDRA)
    with pytest.raises(VolsegError, match="No run of experiment 'hydra-lv' has finished yet"):
        fit(cfg, run_root=tmp_path / "runs", progress=False)
