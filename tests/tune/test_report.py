import csv
import json

import pytest

from volseg.errors import VolsegError
from volseg.tune import SweepResult, heatmap, read_thresholds, write_csv, write_thresholds
from volseg.tune.report import important_parameters


def fake_result():
    rows = []
    for a in (0.5, 0.9):
        for b in (0, 10, 20):
            are = 0.1 + 0.5 * (a == 0.5) + 0.001 * b
            scores = {"precision": 0.9, "recall": 0.8, "voi": 0.2, "n_instances": 3}
            rows.append({"binary_threshold.seed": a, "min_instance_size": b, "are": are, **scores})
    best = min(rows, key=lambda r: r["are"])
    params = {"binary_threshold": (0.9, 0.85), "contour_threshold": (0.8, None),
              "min_instance_size": 0}  # fmt: skip
    return SweepResult(rows, ["binary_threshold.seed", "min_instance_size"], params, best,
                       "adapted_rand", 0.1)  # fmt: skip


def test_outputs_round_trip(tmp_path):
    result = fake_result()
    path = write_csv(result, tmp_path / "sweep.csv")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and float(rows[0]["are"]) == pytest.approx(0.6)
    assert important_parameters(result)[0] == "binary_threshold.seed"
    png = heatmap(result, tmp_path / "sweep_are.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (written,) = write_thresholds(result, [tmp_path / "run"])
    doc = json.loads(written.read_text())
    assert doc["scores"]["are"] == pytest.approx(0.1)
    name, params = read_thresholds(written)
    assert name == "contour_distance"
    assert params["contour_threshold"] == (0.8, None)
    assert not list((tmp_path / "run").glob(".*tmp"))


def test_read_thresholds_errors(tmp_path):
    with pytest.raises(VolsegError, match="does not exist"):
        read_thresholds(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"x": 1}')
    with pytest.raises(VolsegError, match="not a volseg thresholds file"):
        read_thresholds(bad)
