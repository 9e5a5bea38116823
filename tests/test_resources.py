"""Shipped data (tutorials, configs) found without a path relative to the repository."""

import tomllib
from pathlib import Path

import pytest

from volseg import resources
from volseg.cli.main import main
from volseg.demo import lucchi_file, plan_for
from volseg.errors import VolsegError

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_folders_are_found():
    assert resources.tutorials_dir() == ROOT / "tutorials"
    assert resources.configs_dir() == ROOT / "configs"
    assert "lucchi-mito" in resources.tutorial_names()
    assert resources.tutorial("lucchi-mito.yaml") == ROOT / "tutorials" / "lucchi-mito.yaml"


def test_packaged_copy_wins_over_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "tutorials").mkdir()
    (tmp_path / "tutorials" / "only-here.yaml").write_text("experiment_name: x\n")
    monkeypatch.setattr(resources, "PACKAGED", tmp_path)
    assert resources.tutorial_names() == ["only-here"]
    monkeypatch.setattr(resources, "PACKAGED", tmp_path / "absent")
    monkeypatch.setattr(resources, "checkout_root", lambda: None)
    with pytest.raises(VolsegError, match="missing from the installed volseg package"):
        resources.tutorials_dir()


def test_unknown_tutorial_names_the_shipped_ones():
    with pytest.raises(VolsegError, match="lucchi-mito"):
        resources.tutorial("nope")


def test_config_show_takes_a_tutorial_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no tutorials/ here: the name is what finds it
    with pytest.raises(SystemExit) as exc:
        main(["config", "show", "lucchi-mito"])
    assert exc.value.code == 0
    assert "experiment_name: lucchi-mito" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["config", "check", "nothing-like-it"])
    assert exc.value.code == 2
    assert "neither a file nor a shipped tutorial" in capsys.readouterr().err


def test_demo_data_folder_without_the_crop_is_one_sentence(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", str(tmp_path / "out"), "--data", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "holds neither lucchi_pp_train_10nm/volume.h5" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_demo_data_folder_feeds_the_lucchi_tutorial(tmp_path):
    crop = tmp_path / "lucchi_pp_crops" / "train_crop.h5"
    crop.parent.mkdir()
    crop.write_bytes(b"")
    assert lucchi_file(tmp_path) == crop
    plan = plan_for(tmp_path / "out", seed=0, data=tmp_path)
    assert plan.config == resources.tutorial("lucchi-mito")
    assert f"data.train_image={crop}:raw" in plan.overrides
    assert f"test.data.test_label={crop}:instances" in plan.overrides
    assert "data.voxel_size=[5,5,5]" in plan.overrides  # the crop records none
    whole = tmp_path / "lucchi_pp_train_10nm" / "volume.h5"
    whole.parent.mkdir()
    whole.write_bytes(b"")
    assert lucchi_file(tmp_path) == whole  # the whole volume wins
    plan = plan_for(tmp_path / "out", seed=0, data=tmp_path)
    assert f"data.train_image={whole}:raw" in plan.overrides
    assert not any(o.startswith("data.voxel_size") for o in plan.overrides)


def test_package_metadata():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = meta["project"]
    assert project["license"] == "MIT" and (ROOT / "LICENSE").is_file()
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "Framework :: napari" in project["classifiers"]
    assert {"Homepage", "Documentation"} <= set(project["urls"])
    extras = project["optional-dependencies"]
    assert not any("pyqt" in d.lower() or "pyside" in d.lower() for d in extras["napari"])
    assert any(d.startswith("PyQt") for d in extras["gui"])
    assert any(d.startswith("dask-jobqueue") for d in extras["cluster"])
    assert (ROOT / "volseg" / "py.typed").is_file()


def _name(requirement: str) -> str:
    for stop in "[<>=!~ ;":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower()


def test_environment_yml_lists_every_dependency():
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    names = set()
    for dep in env["dependencies"]:
        for item in dep["pip"] if isinstance(dep, dict) else [dep]:
            names.add(_name(item))
    # conda-forge names where they differ from PyPI
    aliases = {"torch": "pytorch", "matplotlib": "matplotlib-base"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    missing = [
        _name(d) for d in project["dependencies"]
        if _name(d) not in names and aliases.get(_name(d)) not in names
    ]  # fmt: skip
    assert not missing, f"environment.yml lacks {missing}"
