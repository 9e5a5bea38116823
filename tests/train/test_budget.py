"""Step-rate measurement and steps-in-budget arithmetic (volseg demo, benchmarks/train.py)."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from volseg.config import load
from volseg.train.budget import measure_step_seconds, steps_in_budget

REPO = Path(__file__).resolve().parents[2]
TINY = [
    "model.filters=[4,8,8,8]",
    "model.input_size=[1,64,64]",
    "inference.sliding_window.window_size=[1,64,64]",
    "system.training.num_cpus=1",
    "system.training.num_workers=0",
    "system.training.batch_size=2",
]


def test_steps_in_budget():
    assert steps_in_budget(0.5, 1.0) == 108  # 90 % of 60 s at 0.5 s a step
    assert steps_in_budget(0.5, 1.0, share=1.0) == 120
    assert steps_in_budget(100.0, 0.01) == 1  # never zero steps


def test_measure_step_seconds_times_the_real_step_and_restores_threads():
    cfg = load(REPO / "tutorials" / "lucchi-mito.yaml", TINY)
    before = torch.get_num_threads()
    seconds = measure_step_seconds(cfg, steps=2)
    assert math.isfinite(seconds) and 0.0 < seconds < 60.0
    assert torch.get_num_threads() == before
