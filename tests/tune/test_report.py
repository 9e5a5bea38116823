import csv

import numpy as np

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.tune import heatmap, sweep, write_csv
from volseg.tune.report import important_parameters


def _result():
    gt = ball_labels(shape=(16, 40, 40), centres=((8, 12, 12), (8, 26, 26)))
    maps = oracle_maps(gt)
    maps[0] = 0.2 + 0.8 * maps[0]
    space = {"binary_threshold.fg": [0.1, 0.5, 0.7], "distance_threshold.seed": [0.3, 0.6]}
    return sweep(maps, gt, space, base_params={"min_seed_size": 2})


def test_csv_keeps_skipped_rows_and_every_column(tmp_path):
    result = _result()
    path = write_csv(result, tmp_path / "sweep.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 6
    skipped = [r for r in rows if r["skipped"]]
    assert len(skipped) == 2 and all(r["f1@0.5"] == "" for r in skipped)
    assert {"are_ignore_bg", "are_with_bg", "f1@0.5", "ap@0.75", "fg_iou"} <= set(rows[0])


def test_heatmap_follows_the_objective(tmp_path):
    result = _result()
    png = heatmap(result, tmp_path / "h.png", key=result.metric)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    names = important_parameters(result, key="f1@0.5")
    assert sorted(names) == sorted(result.names)
    assert np.isfinite(result.best_row["f1@0.5"])
