"""How many training steps fit in a time budget on this machine: a plan, not a promise.

A budget is given in minutes and a step's cost depends on the machine (the same demo runs 2 or
6 steps a second on two different 2-core machines). :func:`measure_step_seconds` times the real
training step of a config (forward, loss, backward, optimizer step on one batch from its loader,
on ``system.training.num_cpus`` threads); :func:`steps_in_budget` turns minutes into steps.
``volseg demo`` and ``benchmarks/train.py`` plan their epochs with it. The rate can change
during the run (another job starts), so they also set ``optimization.max_time``, which makes the
schedule follow the clock (:mod:`volseg.train.time_budget`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

# The measured step excludes waiting for the loader, per-epoch set-up and patch validation.
BUDGET_SHARE = 0.9


@dataclass
class Parts:
    """What one training step needs: data, the trainable network + loss, its optimizer."""

    data: Any
    trainable: Any
    optimizer: Any


def build_parts(cfg: Any) -> Parts:
    """Data (split, datasets, loaders), trainable network + loss and optimizer of ``cfg``."""
    from volseg.data.split import make_split
    from volseg.losses import build as build_loss
    from volseg.models import build as build_model
    from volseg.train.loop import Trainable
    from volseg.train.optim import build_optimizer, param_groups
    from volseg.train.setup import make_data

    seed = int(cfg.system.seed or 0)
    torch.manual_seed(seed)
    data = make_data(cfg, make_split(cfg), seed)
    net = build_model(cfg.model)
    loss = build_loss(cfg.model, targets=cfg.data.label_transform.targets)
    trainable = Trainable(net, loss).train()
    opt = cfg.optimization.optimizer
    return Parts(data, trainable, build_optimizer(param_groups(net, loss, opt.weight_decay), opt))


def time_steps(trainable: Any, optimizer: Any, batch: dict[str, Any], steps: int) -> float:
    """Seconds per optimizer step on one batch (two warm-up steps first)."""

    def step() -> None:
        total, _ = trainable(batch["image"], batch["targets"], batch["mask"])
        total.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def measure_step_seconds(cfg: Any, *, steps: int = 5) -> float:
    """Seconds per training step of ``cfg`` on this machine, on its configured CPU threads."""
    parts = build_parts(cfg)
    parts.data.train_set.set_epoch(0)
    batch = next(iter(parts.data.train_loader))
    threads = torch.get_num_threads()
    torch.set_num_threads(int(cfg.system.training.num_cpus))
    try:
        return time_steps(parts.trainable, parts.optimizer, batch, steps)
    finally:
        torch.set_num_threads(threads)


def steps_in_budget(step_seconds: float, minutes: float, *, share: float = BUDGET_SHARE) -> int:
    """Training steps of ``step_seconds`` that fill ``share`` of ``minutes`` (at least 1)."""
    return max(1, int(share * minutes * 60.0 / step_seconds))
