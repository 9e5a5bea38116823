"""``volseg model summary``: layers, parameter count, receptive field; bad input exits 2."""

import importlib
import re

import pytest

from volseg.models import build

cli = importlib.import_module("volseg.cli.main")  # the module (the package exports main())

CONFIG = """
model:
  architecture: rsunet
  filters: [2, 4]
  input_size: [8, 32, 32]
  out_channels: 3
"""


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_summary_prints_parameters_and_receptive_field(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(CONFIG)
    code, out, err = run(["model", "summary", str(path), "--shape", "32,32,32"], capsys)
    assert code == 0, err
    model = build({"architecture": "rsunet", "filters": [2, 4], "out_channels": 3})
    total = sum(p.numel() for p in model.parameters())
    assert f"parameters: {total:,}" in out
    assert "net.encoders" in out and "RSUNet" in out
    empirical = re.search(r"empirical \(input gradient[^)]*\): (\d+) x (\d+) x (\d+)", out)
    analytic = re.search(r"analytic: (\d+) x (\d+) x (\d+)", out)
    assert empirical and analytic and empirical.groups() == analytic.groups() == ("28",) * 3


def test_summary_with_override_and_default_shape(tmp_path, capsys):
    path = tmp_path / "m.yaml"
    path.write_text(CONFIG)
    code, out, err = run(["model", "summary", str(path), "model.norm=group"], capsys)
    assert code == 0, err
    assert "GroupNorm" not in out  # depth 2 shows blocks, not their layers
    assert "input (1, 1, 8, 32, 32)" in out and ">=8" in out  # z field exceeds the probe


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--shape", "8,32"], "--shape must be three positive integers"),
        (["--shape", "7,32,32"], "divisible by the total down factor"),
        (["model.architecture=unet9"], "unet9"),
    ],
)
def test_bad_input_exits_2(tmp_path, capsys, args, match):
    path = tmp_path / "m.yaml"
    path.write_text(CONFIG)
    code, _, err = run(["model", "summary", str(path), *args], capsys)
    assert code == 2 and re.search(match, err), err
