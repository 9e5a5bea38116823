"""The comparison table: best / final values, parameter counts, Markdown and CSV."""

from __future__ import annotations

import csv
import io

import pytest
import yaml

from tests.compare.test_runs import make_run
from volseg.compare.table import best_and_final, parameter_count, rows, to_csv, to_markdown


def test_best_and_final_follow_the_direction() -> None:
    run = make_run("a")
    run.rows = [
        {"step": 2.0, "epoch": 1.0, "val/are": 0.3, "val/map_fg_iou": 0.4},
        {"step": 4.0, "epoch": 2.0, "val/are": 0.1, "val/map_fg_iou": 0.6},
        {"step": 6.0, "epoch": 3.0, "val/are": float("nan"), "val/map_fg_iou": 0.6},
        {"step": 8.0, "epoch": 4.0, "val/are": 0.2, "val/map_fg_iou": 0.5},
    ]
    assert best_and_final(run, "val/are") == (0.1, 2.0, 0.2)  # smaller is better; NaN skipped
    assert best_and_final(run, "val/map_fg_iou") == (0.6, 2.0, 0.5)  # ties: the earlier epoch
    assert best_and_final(run, "val/f1_50") is None


def test_parameter_count_is_the_built_network() -> None:
    from volseg.models import build

    model = {"architecture": "rsunet", "filters": [4, 8], "num_2d_levels": 1}
    assert parameter_count(model) == sum(p.numel() for p in build(model).parameters())


def test_markdown_and_csv() -> None:
    header = ["run", "parameters", "best val/are"]
    table = [["a|b", 10, 0.123456789], ["c", 20, None]]
    md = to_markdown(header, table).splitlines()
    assert md[0] == "| run | parameters | best val/are |" and md[1] == "|---|---|---|"
    assert md[2] == "| a\\|b | 10 | 0.1235 |" and md[3] == "| c | 20 |  |"
    parsed = list(csv.reader(io.StringIO(to_csv(header, table))))
    assert parsed[1] == ["a|b", "10", "0.123456789"] and parsed[2] == ["c", "20", ""]


@pytest.mark.slow
def test_both_rows_with_their_parameter_counts(compared) -> None:
    from volseg.config import load
    from volseg.models import build

    out, configs, run_dirs, _ = compared
    parsed = list(csv.DictReader(io.StringIO((out / "table.csv").read_text())))
    assert [r["run"] for r in parsed] == ["tiny_rsunet", "tiny_attention"]
    assert [r["architecture"] for r in parsed] == ["rsunet", "attention_unet"]
    for row, config in zip(parsed, configs, strict=True):
        net = build(load(config).model)
        assert int(row["parameters"]) == sum(p.numel() for p in net.parameters())
        assert row["steps"] == "4" and float(row["s/epoch"]) > 0
        assert 0.0 <= float(row["best val/map_fg_iou"]) <= 1.0
        assert row["best epoch"] in ("1", "2")
    # the columns of the Markdown table are the CSV's
    md = (out / "table.md").read_text().splitlines()
    assert md[0].count("|") == len(parsed[0]) + 1 and len(md) == 4
    header, _ = rows([], "val/map_fg_iou")
    assert list(parsed[0])[: len(header)] == header
    recorded = [yaml.safe_load((d / "config.yaml").read_text()) for d in run_dirs]
    assert {r["system"]["seed"] for r in recorded} == {3}
    assert {r["optimization"]["max_steps"] for r in recorded} == {4}
