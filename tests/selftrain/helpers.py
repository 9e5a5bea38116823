"""A tiny labelled volume, one unlabelled volume and a tiny self-training config."""

from __future__ import annotations

from pathlib import Path

from tests.train.helpers import make_volume, tiny_text

SELFTRAIN = """
selftrain: {iterations: 2, t_hi: [0.6, 0.55], t_lo: [0.4, 0.45], steps: 2}
inference:
  test_time_augmentation: {enabled: true, flip_axes: [[2]]}
"""


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """``(config, unlabelled image)``: the tiny config (2 epochs of 2 steps) on a labelled
    32 x 64 x 64 vesicle volume, 2 iterations of 2 steps, TTA on; another seed unlabelled."""
    labelled = make_volume(folder / "labelled.zarr")
    unlabelled = make_volume(folder / "unlabelled.zarr", seed=2)
    config = folder / "selftrain.yaml"
    config.write_text(tiny_text(labelled) + SELFTRAIN, encoding="utf-8")
    return config, unlabelled
