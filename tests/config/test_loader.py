"""Loading: YAML errors, `_base_` inheritance, path resolution, overrides, round trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ReadonlyConfigError

from volseg.config import Config, load, loads, to_yaml
from volseg.errors import VolsegError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def plain(cfg: DictConfig) -> dict:
    return OmegaConf.to_container(cfg)  # type: ignore[return-value]


def test_empty_config_is_the_defaults() -> None:
    cfg = loads("")
    expected = dataclasses.asdict(Config())
    # derived values are filled from model.input_size
    expected["model"]["output_size"] = expected["model"]["input_size"]
    expected["model"]["filters"] = [28, 36, 48, 64, 80]  # rsunet's default widths
    expected["data"]["patch_size"] = expected["model"]["input_size"]
    expected["inference"]["sliding_window"]["window_size"] = expected["model"]["input_size"]
    assert plain(cfg) == expected


def test_result_is_structured_and_read_only() -> None:
    cfg = loads("optimization: {optimizer: {lr: 0.01}}")
    assert OmegaConf.get_type(cfg) is Config
    assert cfg.optimization.optimizer.lr == 0.01
    with pytest.raises(ReadonlyConfigError):
        cfg.optimization.optimizer.lr = 1.0


def test_misspelt_key_gets_did_you_mean(tmp_path: Path) -> None:
    f = write(tmp_path / "config.yaml", "optimization:\n  optimizer:\n    lrr: 0.1\n")
    with pytest.raises(VolsegError) as info:
        load(f)
    assert str(info.value) == (
        f"{f}: unknown key `optimization.optimizer.lrr`; did you mean `optimization.optimizer.lr`?"
    )


def test_misplaced_key_points_to_its_real_place() -> None:
    with pytest.raises(VolsegError, match=r"did you mean `optimization.optimizer.weight_decay`"):
        loads("optimization: {weight_decay: 0.1}")


def test_unknown_top_level_section() -> None:
    with pytest.raises(
        VolsegError, match=r"unknown key `optimisation`; did you mean `optimization`"
    ):
        loads("optimisation: {}")


def test_wrong_type_names_key_and_value() -> None:
    with pytest.raises(VolsegError) as info:
        loads("data: {patch_size: abc}", source="c.yaml")
    assert (
        str(info.value) == "c.yaml: `data.patch_size` must be null or a list of 3 ints, got 'abc'."
    )


def test_out_of_range() -> None:
    with pytest.raises(VolsegError, match=r"`data.foreground_probability` must be between 0 and 1"):
        loads("data: {foreground_probability: 1.5}")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VolsegError, match=r"config file .*nope.yaml does not exist\."):
        load(tmp_path / "nope.yaml")


def test_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(VolsegError, match=r"is not a file"):
        load(tmp_path)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    f = write(tmp_path / "bad.yaml", "model:\n  filters: [1, 2\n  norm: batch\n")
    with pytest.raises(
        VolsegError, match=r"bad.yaml: YAML syntax error at line 3, column \d+: expected ',' or ']'"
    ):
        load(f)


def test_duplicate_key_is_an_error() -> None:
    with pytest.raises(VolsegError, match=r"duplicate key 'model' \(first at line 1\)"):
        loads("model: {}\ndata: {}\nmodel: {}\n")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(VolsegError, match=r"a config must be a mapping of sections, got \[1, 2\]"):
        loads("[1, 2]")


def test_scientific_floats_without_dot_are_numbers() -> None:
    cfg = loads("optimization: {optimizer: {lr: 3e-4, eps: 1E-8}}")
    assert cfg.optimization.optimizer.lr == pytest.approx(3e-4)
    assert cfg.optimization.optimizer.eps == pytest.approx(1e-8)


def test_base_inheritance_child_overrides_and_lists_replace(tmp_path: Path) -> None:
    write(
        tmp_path / "base.yaml",
        "experiment_name: base\nmodel: {filters: [8, 16, 32], dropout: 0.2}\n"
        "optimization: {optimizer: {lr: 0.01, weight_decay: 0.5}}\n",
    )
    child = write(
        tmp_path / "child.yaml",
        "_base_: base.yaml\nmodel: {filters: [4, 8]}\noptimization: {optimizer: {lr: 0.1}}\n",
    )
    cfg = load(child)
    assert cfg.experiment_name == "base"
    assert list(cfg.model.filters) == [4, 8]
    assert cfg.model.dropout == 0.2
    assert cfg.optimization.optimizer.lr == 0.1
    assert cfg.optimization.optimizer.weight_decay == 0.5
    assert "_base_" not in cfg


def test_base_list_recursive_and_relative_to_each_file(tmp_path: Path) -> None:
    write(tmp_path / "common" / "root.yaml", "description: root\nsystem: {seed: 1}\n")
    write(tmp_path / "common" / "a.yaml", "_base_: root.yaml\nsystem: {seed: 2}\n")
    write(tmp_path / "b.yaml", "system: {seed: 3, deterministic: true}\n")
    top = write(tmp_path / "exp" / "top.yaml", "_base_: [../common/a.yaml, ../b.yaml]\n")
    cfg = load(top)
    assert cfg.description == "root"
    assert cfg.system.seed == 3  # later bases win over earlier ones
    assert cfg.system.deterministic is True


def test_base_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "_base_: b.yaml\n")
    write(tmp_path / "b.yaml", "_base_: a.yaml\n")
    with pytest.raises(VolsegError, match=r"cycle: a.yaml -> b.yaml -> a.yaml"):
        load(tmp_path / "a.yaml")


def test_base_self_reference_is_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "_base_: [a.yaml]\n")
    with pytest.raises(VolsegError, match=r"cycle: a.yaml -> a.yaml"):
        load(tmp_path / "a.yaml")


def test_missing_base(tmp_path: Path) -> None:
    f = write(tmp_path / "a.yaml", "_base_: gone.yaml\n")
    with pytest.raises(
        VolsegError, match=r"a.yaml: `_base_` file gone.yaml does not exist \(looked for "
    ):
        load(f)


def test_error_in_base_names_the_base_file(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "base.yaml", "model: {dropoutt: 0.1}\n")
    f = write(tmp_path / "sub" / "child.yaml", "_base_: base.yaml\n")
    with pytest.raises(VolsegError, match=r"sub/base.yaml: unknown key `model.dropoutt`"):
        load(f)


def test_bad_base_value() -> None:
    with pytest.raises(VolsegError, match=r"`_base_` must be a path or a list of paths, got 3"):
        loads("_base_: 3")


def test_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    f = write(
        tmp_path / "cfgs" / "c.yaml",
        "data:\n  train_image: ../vol.h5:raw\n  train_label: [/abs/lab.zarr/labels/x]\n"
        "model: {external_weights_path: w.pt}\n",
    )
    cfg = load(f)
    assert list(cfg.data.train_image) == [f"{tmp_path}/vol.h5:raw"]
    assert list(cfg.data.train_label) == ["/abs/lab.zarr/labels/x"]
    assert cfg.model.external_weights_path == f"{tmp_path}/cfgs/w.pt"


def test_colon_splits_only_after_a_container_suffix(tmp_path: Path) -> None:
    cfg = loads("data: {train_image: [a:b.h5, c.zarr:labels/x, d.H5:/raw]}", base_dir=tmp_path)
    assert list(cfg.data.train_image) == [
        f"{tmp_path}/a:b.h5",
        f"{tmp_path}/c.zarr:labels/x",
        f"{tmp_path}/d.H5:/raw",
    ]


def test_urls_are_kept() -> None:
    cfg = loads("data: {train_image: 's3://bucket/vol.zarr'}")
    assert list(cfg.data.train_image) == ["s3://bucket/vol.zarr"]


def test_empty_path_is_an_error() -> None:
    with pytest.raises(VolsegError, match=r"`data.train_image` must be a path, got an empty"):
        loads("data: {train_image: ''}")


def test_overrides_apply_last_and_parse_yaml_values() -> None:
    cfg = loads(
        "model: {filters: [8, 16, 32, 64, 128]}",
        ["model.filters=[4,8,16,32,64]", "optimization.precision=bf16-mixed", "system.seed=null"],
    )
    assert list(cfg.model.filters) == [4, 8, 16, 32, 64]
    assert cfg.optimization.precision == "bf16-mixed"
    assert cfg.system.seed is None


def test_override_paths_resolve_against_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = write(tmp_path / "cfg" / "c.yaml", "data: {train_image: a.h5}\n")
    monkeypatch.chdir(tmp_path)
    cfg = load(f, ["data.train_image=x/b.h5:raw"])
    assert list(cfg.data.train_image) == [f"{tmp_path}/x/b.h5:raw"]


def test_override_unknown_key_did_you_mean() -> None:
    with pytest.raises(VolsegError) as info:
        loads("", ["optimization.optimizer.lrr=0.1"])
    assert str(info.value) == (
        "override `optimization.optimizer.lrr=0.1`: unknown key `optimization.optimizer.lrr`; "
        "did you mean `optimization.optimizer.lr`?"
    )


@pytest.mark.parametrize("text", ["model.filters", "=3", "model..x=1", "a b=1"])
def test_override_syntax(text: str) -> None:
    with pytest.raises(VolsegError, match=r"must look like key=value"):
        loads("", [text])


def test_override_wrong_type() -> None:
    with pytest.raises(
        VolsegError, match=r"override `data.patch_size=abc`: `data.patch_size` must"
    ):
        loads("", ["data.patch_size=abc"])


def test_override_bad_yaml_value() -> None:
    with pytest.raises(VolsegError, match=r"override `model.filters=\[1,`: YAML syntax error"):
        loads("", ["model.filters=[1,"])


def test_override_into_list_entries_and_kwargs() -> None:
    cfg = loads(
        "",
        [
            "test.decoding.0.kwargs.min_seed_size=5",
            "data.label_transform.targets.1.kwargs.thickness=2",
            "test.decoding.0.name=watershed",
        ],
    )
    assert cfg.test.decoding[0].name == "watershed"
    assert cfg.test.decoding[0].kwargs.min_seed_size == 5
    assert cfg.data.label_transform.targets[1].kwargs.thickness == 2


def test_override_whole_list_entry_fills_defaults() -> None:
    cfg = loads("", ["test.decoding.0={name: cc}"])
    assert plain(cfg)["test"]["decoding"] == [{"name": "cc", "kwargs": {}}]


def test_override_bad_index_and_part_of_scalar() -> None:
    with pytest.raises(VolsegError, match=r"`test.decoding` has 1 entry; '3' is not one"):
        loads("", ["test.decoding.3.kwargs.h=1"])
    with pytest.raises(VolsegError, match=r"`model.filters` takes a whole value"):
        loads("", ["model.filters.0=3"])


def test_override_kwarg_is_checked_like_the_file() -> None:
    with pytest.raises(VolsegError, match=r"unknown key `test.decoding\[0\].kwargs.min_seed`"):
        loads("", ["test.decoding.0.kwargs.min_seed=5"])


def test_overrides_must_be_a_list() -> None:
    with pytest.raises(VolsegError, match=r"overrides must be a list"):
        loads("", "model.filters=[1]")  # type: ignore[arg-type]


def test_to_yaml_round_trip(tmp_path: Path) -> None:
    cfg = loads(
        "model: {architecture: monai_unet, filters: [8, 16, 32], strides: [2, [1, 2, 2]]}\n"
        "data: {train_image: vol.h5:raw, val_region: 0.25}\n"
        "optimization: {precision: 16-mixed}\n"
        "tune: {parameters: {binary_threshold.0: {low: 0.5, high: 0.9, num: 3}}}",
        base_dir=tmp_path,
    )
    text = to_yaml(cfg)
    again = load(write(tmp_path / "out" / "shown.yaml", text))
    assert plain(again) == plain(cfg)
