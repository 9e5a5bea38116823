"""Curves side by side: the trailing moving average against numpy, and the PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.compare.test_runs import make_run
from volseg.compare.plot import moving_average, panels, save_curves


def reference(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` values (fewer at the start), by a full convolution."""
    sums = np.convolve(values, np.ones(window))[: values.size]
    counts = np.minimum(np.arange(1, values.size + 1), window)
    return sums / counts


@pytest.mark.parametrize("window", [1, 2, 5, 30])
def test_moving_average_matches_numpy(window: int) -> None:
    values = np.random.default_rng(window).normal(size=23)
    np.testing.assert_allclose(moving_average(values, window), reference(values, window))
    assert moving_average(values, window)[0] == values[0]  # trailing: the start is raw


def test_panels_and_png(tmp_path: Path) -> None:
    runs = [make_run("a"), make_run("b")]
    runs[1].rows = [r for r in runs[1].rows if "val/are" not in r] + [
        {"step": 4.0, "epoch": 2.0, "val/map_fg_iou": 0.6}
    ]
    assert panels(runs, "val/map_fg_iou") == [("val/map_fg_iou", "epoch"), ("train/loss", "step")]
    path = save_curves(tmp_path / "curves.png", runs, "val/map_fg_iou", window=3)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]
