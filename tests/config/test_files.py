"""Every shipped YAML loads; base.yaml documents every key; tutorial data paths are real."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest
import yaml
from omegaconf import OmegaConf

from volseg.config import SECTIONS, load, loads, to_yaml
from volseg.config.suggest import dataclass_paths

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO / ".." / "shared" / "data"
YAML_FILES = sorted([*REPO.glob("configs/*.yaml"), *REPO.glob("tutorials/*.yaml")])


def test_yaml_files_are_found() -> None:
    names = {p.name for p in YAML_FILES}
    assert {"base.yaml", "decode.yaml", "hydra-lv.yaml", "hydra-lv-finetune.yaml"} <= names
    assert {"lucchi-mito.yaml", "neuroproof-neurons.yaml"} <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_yaml_loads(path: Path) -> None:
    cfg = load(path)
    assert cfg.experiment_name
    for key in ("train_image", "train_label", "val_image"):
        assert all(Path(p.split(":")[0]).is_absolute() for p in cfg.data[key])
    again = loads(to_yaml(cfg), source="shown")  # `config show` output reads back the same
    assert OmegaConf.to_container(again) == OmegaConf.to_container(cfg)


def test_base_yaml_is_exactly_the_defaults() -> None:
    from_file = OmegaConf.to_container(load(REPO / "configs" / "base.yaml"))
    assert from_file == OmegaConf.to_container(loads(""))


def test_base_yaml_lists_every_key() -> None:
    raw = yaml.safe_load((REPO / "configs" / "base.yaml").read_text())

    def paths(node: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, value in node.items():
            out.add(prefix + key)
            if isinstance(value, dict) and key not in ("kwargs", "parameters"):
                out |= paths(value, f"{prefix}{key}.")
        return out

    expected = {"experiment_name", "description"}
    for name, cls in SECTIONS.items():
        expected |= {name} | {f"{name}.{p}" for p in dataclass_paths(cls)}
    assert paths(raw) == expected


def test_finetune_inherits_and_overrides_hydra_lv() -> None:
    pre = load(REPO / "tutorials" / "hydra-lv.yaml")
    fine = load(REPO / "tutorials" / "hydra-lv-finetune.yaml")
    assert fine.model.architecture == pre.model.architecture == "rsunet"
    assert list(fine.model.filters) == list(pre.model.filters) == [32, 64, 128, 256, 512]
    assert fine.model.num_2d_levels == pre.model.num_2d_levels
    assert list(fine.model.loss_weights) == [2.0, 2.0, 1.0, 1.0, 0.5]
    assert fine.model.loss_balancing == "uncertainty"
    assert fine.model.external_weights_path.endswith("checkpoints/best.pt")
    assert fine.data.augmentation.preset == "all"
    assert fine.optimization.optimizer.lr == pytest.approx(3e-4)
    assert fine.inference.test_time_augmentation.enabled is True
    assert list(fine.data.train_resolution) == [30.0, 8.0, 8.0]  # inherited


def test_hydra_lv_data_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load(
        REPO / "tutorials" / "hydra-lv.yaml",
        ["data.train_image=v.zarr", "data.train_label=v.zarr/labels/vesicles"],
    )
    assert list(cfg.data.train_image) == [str(tmp_path / "v.zarr")]


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("lucchi-mito.yaml", "lucchi_pp_train_10nm"),
        ("neuroproof-neurons.yaml", "neuroproof_training_sample2"),
    ],
)
def test_real_data_tutorials_point_at_existing_datasets(name: str, folder: str) -> None:
    if not (SHARED_DATA / folder).is_dir():
        pytest.skip(f"{SHARED_DATA / folder} is not present on this machine")
    cfg = load(REPO / "tutorials" / name)
    for key in ("train_image", "train_label"):
        (spec,) = cfg.data[key]
        file, _, dataset = spec.partition(":")
        assert Path(file).resolve() == (SHARED_DATA / folder).resolve() / Path(file).name
        with h5py.File(file, "r") as f:
            assert f[dataset].ndim == 3
