"""``volseg config show|check``: output, exit codes, one-sentence errors without traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from volseg.cli.main import main
from volseg.config import load

REPO = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_check_valid(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(REPO / "tutorials" / "hydra-lv.yaml")
    code, out, err = run(["config", "check", path], capsys)
    assert code == 0, err
    n = out.split("(")[1].split()[0]
    assert out == f"ok: {path} is valid ({n} keys)\n"
    assert int(n) > 100


def test_check_invalid_prints_one_sentence(tmp_path: Path, capsys) -> None:
    f = tmp_path / "config.yaml"
    f.write_text("optimization:\n  optimizer:\n    lrr: 0.1\n")
    code, out, err = run(["config", "check", str(f)], capsys)
    assert code == 2
    assert out == ""
    assert err == (
        f"volseg: error: {f}: unknown key `optimization.optimizer.lrr`; "
        "did you mean `optimization.optimizer.lr`?\n"
    )
    assert "Traceback" not in err


def test_check_with_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(REPO / "configs" / "base.yaml")
    code, _, err = run(["config", "check", path, "model.filters=[8,16,32,64,128]"], capsys)
    assert code == 0, err
    code, _, err = run(["config", "check", path, "model.filterz=[8]"], capsys)
    assert code == 2
    assert "did you mean `model.filters`?" in err and "Traceback" not in err
    code, _, err = run(["config", "check", path, "model.filters"], capsys)
    assert code == 2 and "must look like key=value" in err


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["config", "check", str(tmp_path / "none.yaml")], capsys)
    assert code == 2
    assert err == f"volseg: error: config file {tmp_path / 'none.yaml'} does not exist.\n"


def test_show_output_reloads_to_an_equal_config(tmp_path: Path, capsys) -> None:
    src = REPO / "tutorials" / "hydra-lv-finetune.yaml"
    code, out, err = run(["config", "show", str(src), "optimization.max_epochs=7"], capsys)
    assert code == 0, err
    shown = tmp_path / "elsewhere" / "shown.yaml"
    shown.parent.mkdir()
    shown.write_text(out)
    again = load(shown)
    expected = load(src, ["optimization.max_epochs=7"])
    assert OmegaConf.to_container(again) == OmegaConf.to_container(expected)
    assert again.optimization.max_epochs == 7


def test_check_runs_the_monitor_mode_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14 row 12: ``config check`` passed a monitor/mode pair that ``fit`` rejects."""
    path = str(REPO / "tutorials" / "hydra-lv.yaml")
    code, _, err = run(["config", "check", path, "monitor.checkpoint.monitor=val_loss",
                        "monitor.checkpoint.mode=max"], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert "is better when smaller but its mode is 'max'" in err
