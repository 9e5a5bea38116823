"""The demo end to end, with a few seconds of training (CI has ../shared/data: Lucchi++ path)."""

import json

import pytest

from volseg.cli.main import main
from volseg.demo import run


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    metrics = run(tmp_path / "demo", minutes=0.05)
    out = tmp_path / "demo"
    for name in ("report.md", "metrics.json", "thresholds.json", "sweep.csv", "sweep_are.png",
                 "slices.png", "labels.zarr", "predictions.zarr"):  # fmt: skip
        assert (out / name).exists(), name
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["adapted_rand_error"] == pytest.approx(metrics["adapted_rand_error"])
    assert 0.0 <= saved["adapted_rand_error"] <= 1.0
    assert "second half of the held-out z-range" in saved["evaluated_on"]
    assert "volseg view" in (out / "report.md").read_text()


def test_demo_rejects_a_non_positive_budget(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "x", "--minutes", "0"])
    assert exc.value.code == 2
    assert "--minutes must be positive" in capsys.readouterr().err
