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
        "data.val_region=[159,165]",
    ],
    "neuroproof-neurons": [
        "model.filters=[4,4,4,4]",
        "model.input_size=[8,64,64]",
        "inference.sliding_window.window_size=[8,64,64]",
        "inference.sliding_window.overlap=0.25",
        "data.val_region=[242,250]",
    ],
}


def data_overrides(name: str, vesicles: Path) -> list[str]:
    if name.startswith("hydra-lv"):
        return [f"data.train_image={vesicles}", f"data.train_label={vesicles}/labels/vesicles"]
    return []


@pytest.fixture(scope="module")
def vesicles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``volseg synth vesicles`` writes, smaller: the hydra-lv tutorials' data."""
    return make_volume(tmp_path_factory.mktemp("synth") / "vesicles.zarr", shape=(32, 96, 96))


@pytest.fixture(scope="module")
def pretrained(vesicles: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hydra-lv run, whose best weights hydra-lv-finetune starts from."""
    return train("hydra-lv", vesicles, tmp_path_factory.mktemp("pre"), [])


def train(name: str, vesicles: Path, root: Path, extra: list[str]) -> Path:
    overrides = COMMON + SHRINK[name] + data_overrides(name, vesicles) + extra
    cfg = load(REPO / "tutorials" / f"{name}.yaml", overrides)
    return fit(cfg, run_root=root, progress=False)


def test_every_tutorial_has_shrink_overrides() -> None:
    assert {p.stem for p in TUTORIALS} == set(SHRINK)


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_trains(path: Path, vesicles: Path, pretrained: Path, tmp_path: Path) -> None:
    name = path.stem
    if name == "hydra-lv":
        run_dir = pretrained
    else:
        extra = []
        if name == "hydra-lv-finetune":
            extra = [f"model.external_weights_path={pretrained}/checkpoints/best.pt"]
        elif not DATA.is_dir():  # CI has ../shared beside the checkout; never skip there
            pytest.fail(f"{DATA} is missing; the real-data tutorials need it")
        run_dir = train(name, vesicles, tmp_path, extra)
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
    if name == "hydra-lv-finetune":
        assert "initial weights from" in (run_dir / "train.log").read_text()
