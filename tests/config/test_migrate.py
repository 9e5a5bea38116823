"""`volseg config migrate`: every real PyTorch Connectomics config migrates to a config that
`volseg config check` accepts, with exact rules for renamed, converted and dropped keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from volseg.config import load
from volseg.config.migrate import counts, format_table, migrate
from volseg.train.setup import check_without_data

REPO = Path(__file__).resolve().parents[2]
PYTC = REPO / ".." / "shared" / "peers" / "pytc"
#: Every PyTC config: top-level tutorials and v2-2026 (presets/ are fragments they include).
PYTC_FILES = sorted([*PYTC.glob("*.yaml"), *PYTC.glob("v2-2026/*.yaml")])


def _row(rows: list, key: str):
    hits = [r for r in rows if r.key == key]
    assert len(hits) == 1, f"{key}: {hits}"
    return hits[0]


def test_pytc_files_are_found() -> None:
    assert len(PYTC_FILES) >= 16
    assert {"monai_lucchi++.yaml", "hydra-lv.yaml", "minimal.yaml"} <= {p.name for p in PYTC_FILES}


@pytest.mark.parametrize("path", PYTC_FILES, ids=lambda p: p.name)
def test_every_pytc_file_migrates_and_passes_check(path: Path, tmp_path: Path) -> None:
    result = migrate(path, out_dir=tmp_path)
    out = tmp_path / "out.yaml"
    out.write_text(result.text)
    cfg = load(out)  # what `volseg config check` runs
    check_without_data(cfg)
    assert sum(counts(result.rows).values()) == len(result.rows) > 0
    assert all(r.note or r.action == "renamed" for r in result.rows)
    assert all(r.note.startswith(("same effect by default", "no such feature in volseg"))
               for r in result.rows if r.action == "dropped")  # fmt: skip


@pytest.fixture(scope="module")
def hydra(tmp_path_factory: pytest.TempPathFactory):
    return migrate(PYTC / "v2-2026" / "hydra-lv.yaml", out_dir=tmp_path_factory.mktemp("m"))


def test_renamed_keys(hydra) -> None:
    assert _row(hydra.rows, "data.augmentation.rotate.enabled").target == (
        "data.augmentation.rotate90.enabled"
    )
    assert _row(hydra.rows, "model.rsunet_norm").action == "renamed"
    assert hydra.config["model"]["norm"] == "batch"
    assert hydra.config["optimization"]["ema"]["use_for_validation"] is True
    assert hydra.config["monitor"]["checkpoint"]["every_n_epochs"] == 10


def test_converted_scheduler_losses_and_targets(hydra) -> None:
    sched = hydra.config["optimization"]["scheduler"]
    assert sched == {"name": "warmup_cosine", "warmup_epochs": 200, "warmup_start_lr": 0.1,
                     "min_lr": 1e-6}  # fmt: skip
    assert _row(hydra.rows, "optimization.scheduler.name").action == "converted"
    assert hydra.config["model"]["loss_balancing"] == "uncertainty"
    # volseg's losses take MONAI's names with MONAI's meaning: kept as written
    monai = {"sigmoid": True, "smooth_nr": 1e-5, "smooth_dr": 1e-5}
    assert hydra.config["model"]["loss_kwargs"][0] == monai
    assert hydra.config["model"]["loss_kwargs"][3] == {"alpha": 0.7, "beta": 0.3, **monai}
    assert hydra.config["model"]["multi_task_config"] == [
        [0, 1, "binary", [0, 1]], [1, 2, "instance_boundary", [2, 3]], [2, 3, "instance_edt", [4]],
    ]  # fmt: skip
    boundary = hydra.config["data"]["label_transform"]["targets"][1]
    assert boundary["kwargs"]["mode_2d"] is True
    assert hydra.config["test"]["decoding"][0]["name"] == "contour_distance"
    assert hydra.config["test"]["decoding"][0]["kwargs"]["contour_threshold"] == [0.8, None]


def test_dropped_keys_carry_their_reason(hydra) -> None:
    assert not [r for r in hydra.rows if r.key == "model.loss_kwargs[0].sigmoid"]  # kept as is
    workers = _row(hydra.rows, "system.inference.num_workers")
    assert workers.action == "dropped" and workers.note.startswith("no such feature in volseg")
    assert "system.inference.num_workers" in format_table(hydra.rows)


def test_optuna_tune_block_becomes_a_sweep(hydra) -> None:
    tune = hydra.config["tune"]
    assert tune["decoder"] == "contour_distance"
    assert tune["method"] == "random" and tune["num_samples"] == 100
    assert tune["metric"] == "are_ignore_bg"
    assert tune["parameters"]["binary_threshold.0"] == {"low": 0.5, "high": 1.0, "num": 6}
    assert tune["parameters"]["min_seed_size"] == [4, 8, 12, 16]
    clipped = _row(hydra.rows, "tune.parameter_space.decoding.parameters."
                   "contour_threshold_foreground")  # fmt: skip
    assert clipped.action == "untranslated" and "[0.5, 1.0]" in clipped.note
    assert _row(hydra.rows, "tune.sampler").action == "untranslated"


def test_2026_stages_and_profiles(tmp_path: Path) -> None:
    result = migrate(PYTC / "v2-2026" / "mito_lucchi++.yaml", out_dir=tmp_path)
    cfg = result.config
    assert cfg["model"]["architecture"] == "mednext"
    assert cfg["data"]["train_image"] == ["datasets/lucchi++/train_im.h5"]
    assert cfg["test"]["data"]["test_image"] == ["datasets/lucchi++/test_im.h5"]
    assert cfg["data"]["label_transform"]["targets"] == [{"name": "binary"}]
    assert cfg["model"]["out_channels"] == 1
    assert cfg["optimization"]["scheduler"]["name"] == "warmup_cosine"
    assert cfg["optimization"]["optimizer"]["lr"] == 1e-3  # the file's value beats the profile's
    assert _row(result.rows, "default.model.arch.type").target == "model.architecture"
    assert _row(result.rows, "_base_").action == "untranslated"


def test_2d_file_gets_z_of_one(tmp_path: Path) -> None:
    cfg = migrate(PYTC / "monai2d_worm.yaml", out_dir=tmp_path).config
    assert cfg["model"]["spatial_dims"] == 2
    assert cfg["model"]["input_size"] == [1, 384, 384]
    assert cfg["data"]["augmentation"]["rotate90"]["spatial_axes"] == [1, 2]


def test_output_is_plain_yaml_with_paths_as_written(tmp_path: Path) -> None:
    result = migrate(PYTC / "rsunet_snemi.yaml", out_dir=tmp_path)
    assert "&id" not in result.text and "*id" not in result.text
    assert yaml.safe_load(result.text)["data"]["train_image"] == ["datasets/SNEMI/train-input.tif"]


STAGED = """
_base_: profiles.yaml
experiment_name: staged
default:
  pipeline_profile: two_maps
  model: {arch: {type: monai_unet}, input_size: [16, 64, 64]}
  system: {num_workers: -1}
train:
  data: {train: {image: vol.h5, label: seg.h5}}
  optimization: {max_epochs: 20, profile: short}
test:
  decoding: {steps: [{template: bcd}]}
"""
PROFILES = """
pipeline_profiles:
  two_maps:
    model: {out_channels: 2, loss: {profile: bce_dice}}
    data: {label_transform: {targets: [{name: label}, {name: boundary}]}}
loss_profiles:
  bce_dice:
    losses:
      - {function: WeightedBCEWithLogitsLoss, pred_slice: "0:1"}
      - {function: DiceLoss, kwargs: {sigmoid: true}, pred_slice: "1:2"}
optimizer_profiles:
  short: {optimizer: {name: SGD, lr: 0.01}, scheduler: {name: StepLR, step_size: 5, gamma: 0.5}}
decoding_templates:
  bcd: {steps: [{name: decode_instance_binary_contour_distance, kwargs: {min_seed_size: 4}}]}
"""


def test_2026_profiles_in_included_tables_are_spelled_out(tmp_path: Path) -> None:
    (tmp_path / "profiles.yaml").write_text(PROFILES)
    src = tmp_path / "staged.yaml"
    src.write_text(STAGED)
    result = migrate(src, out_dir=tmp_path)
    cfg = result.config
    assert [t["name"] for t in cfg["data"]["label_transform"]["targets"]] == [
        "binary", "instance_boundary",
    ]  # fmt: skip
    assert cfg["model"]["loss_functions"] == ["WeightedBCEWithLogitsLoss", "DiceLoss"]
    assert cfg["model"]["multi_task_config"] == [
        [0, 1, "binary", [0]], [1, 2, "instance_boundary", [1]],
    ]  # fmt: skip
    assert cfg["optimization"]["optimizer"] == {"name": "SGD", "lr": 0.01}
    assert cfg["optimization"]["scheduler"] == {"name": "step", "step_size": 5, "gamma": 0.5}
    assert cfg["test"]["decoding"] == [{"name": "contour_distance", "kwargs": {"min_seed_size": 4}}]
    assert _row(result.rows, "default.pipeline_profile").action == "converted"
    assert _row(result.rows, "loss_profiles").action == "dropped"
    # a value volseg refuses (PyTC's -1 = automatic workers) is left out, with a row
    workers = _row(result.rows, "system.training.num_workers")
    assert workers.action == "untranslated" and ">= 0" in workers.note
    assert "num_workers" not in cfg["system"].get("training", {})


def test_pytc_augmentation_default_and_split(tmp_path: Path) -> None:
    src = tmp_path / "pytc.yaml"
    src.write_text(
        "system: {num_gpus: 1}\n"
        "data:\n  train_image: a.h5\n  train_label: b.h5\n  split_enabled: true\n"
        "  split_val_range: [0.9, 1.0]\n  augmentation: {flip: {enabled: true}}\n"
    )
    result = migrate(src, out_dir=tmp_path)
    data = result.config["data"]
    # PyTC's default preset switches on only what is enabled: volseg's "none"
    assert data["augmentation"]["preset"] == "none"
    assert data["augmentation"]["flip"] == {"enabled": True}
    assert data["val_region"] == pytest.approx(0.1)
    assert _row(result.rows, "system.num_gpus").action == "converted"


def test_basic_unet_filters_padded_as_pytc_does(tmp_path: Path) -> None:
    result = migrate(PYTC / "monai_lucchi++.yaml", out_dir=tmp_path)
    assert result.config["model"]["filters"] == [32, 64, 128, 256, 256, 256]
    assert result.config["model"]["loss_functions"] == ["WeightedBCEWithLogitsLoss", "DiceLoss"]
    assert result.config["optimization"]["scheduler"] == {
        "name": "reduce_on_plateau", "patience": 50, "factor": 0.5, "min_lr": 1e-6,
    }  # fmt: skip
    threshold = _row(result.rows, "optimization.scheduler.threshold")
    assert threshold.action == "dropped" and threshold.note.startswith("no such feature")


def test_committed_corpus_table_is_what_migrate_does() -> None:
    from volseg.config.migrate.corpus import corpus_files, corpus_report, main

    assert corpus_files(PYTC) == PYTC_FILES
    committed = (REPO / "docs" / "pytc-migration.md").read_text()
    assert corpus_report(PYTC) == committed, (
        "docs/pytc-migration.md is stale: python -m volseg.config.migrate.corpus "
        "../shared/peers/pytc > docs/pytc-migration.md"
    )
    assert main([str(REPO / "no-such-folder")]) == 2
