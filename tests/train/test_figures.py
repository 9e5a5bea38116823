"""Figures: moving average, label colours, PNG output."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from volseg.train.figures import label_colours, moving_average, save_curves, save_slices

PNG = b"\x89PNG\r\n\x1a\n"


def test_moving_average_matches_loop() -> None:
    v = np.random.default_rng(0).normal(size=23)
    want = [v[max(0, i - 4) : i + 1].mean() for i in range(23)]
    np.testing.assert_allclose(moving_average(v, 5), want)
    assert moving_average([], 3).size == 0


def test_label_colours_are_stable_and_black_background() -> None:
    labels = np.array([[0, 1, 2], [2, 1, 7]], np.uint32)
    rgb = label_colours(labels)
    assert rgb.shape == (2, 3, 3)
    assert (rgb[0, 0] == 0).all()
    np.testing.assert_array_equal(rgb[0, 1], rgb[1, 1])
    assert not np.array_equal(rgb[0, 1], rgb[0, 2])
    assert rgb[labels > 0].min() >= 0.25


def test_pngs(tmp_path: Path) -> None:
    img = np.random.default_rng(0).random((16, 16))
    out = save_slices(
        tmp_path / "s.png",
        [
            ("input", img, "image"),
            ("gt", img > 0.5, "labels"),
            ("p", img, "prob"),
            ("d", img * 2 - 1, "signed"),
        ],
    )
    assert out.read_bytes()[:8] == PNG
    rows = [{"step": s, "epoch": 1 + s // 4, "train/loss": 1 / s} for s in range(1, 9)]
    rows += [{"step": 8, "epoch": 2, "val/patch_loss": 0.3, "val/are": float("nan")}]
    assert save_curves(tmp_path / "c.png", rows).read_bytes()[:8] == PNG
    assert save_curves(tmp_path / "none.png", []) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "s.png"]
