"""The demo end to end, with a few seconds of training (CI has ../shared/data: Lucchi++ path)."""

import json

import pytest

from volseg.cli.main import main
from volseg.demo import run


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    metrics = run(tmp_path / "demo", minutes=0.05)
    out = tmp_path / "demo"
    for name in ("report.md", "metrics.json", "sweep.csv", "sweep_heatmap.png",
                 "slices.png", "labels.zarr", "predictions.zarr", "image.zarr"):  # fmt: skip
        assert (out / name).exists(), name
    saved = json.loads((out / "metrics.json").read_text())
    # one thresholds.json, in the run's checkpoint folder, recording everything the decode needs
    (tuned,) = (
        p for p in out.glob("runs/*/*/checkpoints/thresholds.json") if "latest" not in p.parts
    )
    assert saved["sweep"]["thresholds"] == str(tuned) and not (out / "thresholds.json").exists()
    assert json.loads(tuned.read_text())["params"]["channels"] == [0, None, None]
    assert saved["sweep"]["metric"] == "f1@0.5"  # mitochondria are sparse: FPs must cost
    ar = saved["adapted_rand_with_bg"]
    assert ar["are"] == pytest.approx(metrics["adapted_rand_with_bg"]["are"])
    assert 0.0 <= ar["are"] <= 1.0
    assert "second half (in z) of the held-out region" in saved["evaluated_on"]
    report = (out / "report.md").read_text()
    assert "volseg view" in report and "segmentation foreground IoU" in report
    assert "AP (MitoEM)" in report and "map threshold" in report
    # `volseg view OUT` shows the image, the maps, the ground truth and the errors of the seg
    from volseg.napari.discover import discover
    from volseg.napari.layers import build_layers

    names = [meta["name"] for _, meta, _ in build_layers(discover(out))]
    assert names == ["raw", "pred/binary", "gt", "seg", "errors"]


def test_demo_rejects_a_non_positive_budget(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "x", "--minutes", "0"])
    assert exc.value.code == 2
    assert "--minutes must be positive" in capsys.readouterr().err
