"""Every migrated PyTorch Connectomics config that names training data trains for two
iterations, on data volseg can stand in for: the shared Lucchi++ crop for mitochondria, the
shared NeuroProof volume for neurons and axons, synthetic vesicles for the rest.

Only the data paths, the size of the run (network widths and patch, two iterations, no
whole-volume validation) and the devices (CPU, 32-bit) change; the architecture, its depth and
downsampling, the losses, targets, augmentation, optimizer and schedule are what migrate wrote.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.config.test_migrate import PYTC, PYTC_FILES
from tests.train.helpers import make_volume
from volseg.config import load
from volseg.config.migrate import migrate
from volseg.config.schema_model import down_factors
from volseg.train import fit
from volseg.train.logger import read_csv

DATA = PYTC.parents[1] / "data"
LUCCHI = DATA / "lucchi_pp_crops" / "train_crop.h5"
NEUROPROOF = DATA / "neuroproof_training_sample2" / "volume.h5"
#: Which stand-in each file trains on; a file missing here names no training data.
STAND_IN = {
    "hydra-lv.yaml": "vesicles",
    "mednext2d_cem-mitolab.yaml": "lucchi",  # a JSON list of 2D mitochondria images
    "mednext_mitoEM.yaml": "vesicles",  # it names the hydra-bv vesicle volumes
    "minimal.yaml": "vesicles",  # random:// volumes
    "mito_lucchi++.yaml": "lucchi",
    "monai2d_worm.yaml": "vesicles",
    "monai_bouton-bv.yaml": "vesicles",
    "monai_fiber.yaml": "vesicles",
    "monai_hydra-bv.yaml": "vesicles",
    "monai_lucchi++.yaml": "lucchi",
    "monai_nucmm-z.yaml": "vesicles",  # nuclei: blobs too
    "monai_tsai.yaml": "neuroproof",  # axons
    "rsunet_lucchi++.yaml": "lucchi",
    "rsunet_snemi.yaml": "neuroproof",
    "threshold_tuning_example.yaml": "lucchi",  # it names Lucchi validation volumes only
}
#: Files that name no data to train on, and why.
NO_DATA = {"sweep_example.yaml": "a sweep fragment: no model, no data"}


def test_every_file_is_trained_or_says_why_not() -> None:
    assert {p.name for p in PYTC_FILES} == set(STAND_IN) | set(NO_DATA)


@pytest.fixture(scope="module")
def vesicles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_volume(tmp_path_factory.mktemp("standin") / "v.zarr", shape=(32, 128, 128))


DEPTH = {"vesicles": 32, "lucchi": 165, "neuroproof": 250}  # z of each stand-in


def _data(kind: str, vesicles: Path) -> list[str]:
    if kind == "vesicles":
        return [f"data.train_image={vesicles}", f"data.train_label={vesicles}/labels/vesicles",
                f"data.train_mask={vesicles}/labels/mask"]  # fmt: skip
    path = LUCCHI if kind == "lucchi" else NEUROPROOF
    if not path.is_file():  # CI has ../shared beside the checkout; never skip there
        pytest.fail(f"{path} is missing; the stand-in data for this file")
    label = "instances" if kind == "lucchi" else "labels"
    return [f"data.train_image={path}:raw", f"data.train_label={path}:{label}",
            "data.train_mask=null"]  # fmt: skip


def _shrink(config: dict, depth: int) -> list[str]:
    """Overrides that make the run two iterations of a narrow network on a small patch, and
    validate on the last patch's depth of the stand-in (``depth`` slices) only."""
    model = config["model"]
    two_d = model.get("spatial_dims") == 2
    total = [math.prod(f[a] for f in down_factors(model)) for a in range(3)]
    low = (1, 128, 128) if two_d else (8, 64, 64)
    size = [t * max(1, math.ceil(m / t)) for t, m in zip(total, low, strict=True)]
    if two_d:
        size[0] = 1
    shape = f"[{','.join(map(str, size))}]"
    out = [f"model.input_size={shape}", "model.output_size=null",
           f"inference.sliding_window.window_size={shape}"]  # fmt: skip
    if config["data"].get("patch_size") is not None:
        out.append(f"data.patch_size={shape}")
    filters = model.get("filters")
    if filters:
        small = [4 * (1 + min(i, 2)) for i in range(len(filters))]
        out.append(f"model.filters=[{','.join(map(str, small))}]")
    sched = config["optimization"]["scheduler"]
    if sched.get("name") == "warmup_cosine":
        out.append("optimization.scheduler.warmup_epochs=0")
    if sched.get("name") in ("warmup_cosine", "cosine", "reduce_on_plateau"):
        out.append("optimization.scheduler.min_lr=0")
    # this machine: no GPU, so no GPU count and no mixed precision (the files ask for both)
    out += ["system.training.num_gpus=0", "system.inference.num_gpus=0",
            "optimization.precision='32'"]  # fmt: skip
    return [*out, "system.training.batch_size=1", "system.training.num_workers=0",
            "system.training.num_cpus=1",
            f"data.iter_num_per_epoch={2 * config['optimization']['accumulate_grad_batches']}",
            "optimization.max_epochs=1", "optimization.max_steps=null",
            "optimization.max_time=null", "monitor.full_val_every_n_epochs=0",
            "monitor.logging.figures_every_n_epochs=0", "data.val_image=null",
            "data.val_label=null", "data.val_mask=null",
            f"data.val_region=[{depth - size[0]},{depth}]",
            "data.train_resolution=null", "data.voxel_size=null",  # the stand-in's own
            "monitor.early_stopping.enabled=false"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(STAND_IN))
def test_migrated_file_trains_two_iterations(name: str, vesicles: Path, tmp_path: Path) -> None:
    (path,) = (p for p in PYTC_FILES if p.name == name)
    result = migrate(path, out_dir=tmp_path)
    out = tmp_path / "migrated.yaml"
    out.write_text(result.text)
    kind = STAND_IN[name]
    overrides = _shrink(load(out), DEPTH[kind]) + _data(kind, vesicles)
    cfg = load(out, overrides)
    assert cfg.model.architecture == result.config["model"].get("architecture", "rsunet")
    run_dir = fit(cfg, run_root=tmp_path / "runs", progress=False)
    rows = [r for r in read_csv(run_dir / "metrics.csv") if "train/epoch_loss" in r]
    assert rows[-1]["step"] == 2 and math.isfinite(rows[-1]["train/epoch_loss"])  # 2 steps
