"""Optimizers and learning-rate schedules from the ``optimization`` section.

The optimizer covers the network *and* the loss module: learnable loss weights (uncertainty
balancing) are trained, unlike in PyTorch Connectomics. Weight decay applies to weight tensors
of the network only; biases, normalisation parameters and loss weights are not decayed
(decaying log-variances towards 0 would bias the task weighting).

Schedules work per optimizer step so warm-up is smooth even with few epochs:

- ``warmup_cosine``: linear from ``warmup_start_lr * lr`` (a *factor* of ``lr``) to ``lr`` over
  ``warmup_epochs``, then cosine down to ``min_lr`` (absolute) at the last step;
- ``cosine``: the same without warm-up;
- ``step``: ``lr * gamma ** (epoch // step_size)``;
- ``reduce_on_plateau``: ``lr * factor`` after ``patience`` validations without improvement of
  the checkpoint's monitored value, never below ``min_lr``;
- ``none``: constant ``lr``.

With a time budget (``optimization.max_time``) the step-driven schedules (the first three) run
on an *effective* step, ``max(step, fraction * total_steps)``, where ``fraction`` is the share
of the budget used (:mod:`volseg.train.time_budget`): the schedule follows the steps while they
keep up with the plan and the clock when they do not, so it reaches its end (``min_lr``) when the
steps or the budget run out, whichever comes first. Warm-up keeps its share of the run,
``warmup_epochs / max_epochs``. Without a budget nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn


def param_groups(net: nn.Module, loss: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two groups: decayed network weights, and everything else (no decay)."""
    decay, plain = [], []
    for p in net.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else plain).append(p)
    plain += [p for p in loss.parameters() if p.requires_grad]
    groups = [{"params": decay, "weight_decay": weight_decay}]
    if plain:
        groups.append({"params": plain, "weight_decay": 0.0})
    return groups


def build_optimizer(groups: Iterable[dict[str, Any]], opt: Any) -> torch.optim.Optimizer:
    """AdamW, Adam or SGD over parameter ``groups`` with the settings of ``opt``."""
    groups = list(groups)
    if opt.name == "AdamW":
        return torch.optim.AdamW(groups, lr=opt.lr, betas=tuple(opt.betas), eps=opt.eps)
    if opt.name == "Adam":
        # torch's Adam adds L2 decay to the gradient; kept for compatibility with old configs.
        return torch.optim.Adam(groups, lr=opt.lr, betas=tuple(opt.betas), eps=opt.eps)
    if opt.name == "SGD":
        return torch.optim.SGD(groups, lr=opt.lr, momentum=opt.momentum)
    raise ValueError(f"unknown optimizer {opt.name!r}")  # the config schema forbids this


def lr_factor(
    sched: Any, *, lr: float, steps_per_epoch: int, total_steps: int
) -> Callable[[float], float] | None:
    """The per-step factor of ``lr`` for the step-driven schedules (None otherwise); the step
    may be fractional (an effective step of a timed schedule)."""
    if sched.name not in ("warmup_cosine", "cosine", "step"):
        return None
    warmup = sched.warmup_epochs * steps_per_epoch if sched.name == "warmup_cosine" else 0
    floor = sched.min_lr / lr
    start = sched.warmup_start_lr

    def cosine(step: float) -> float:
        if step < warmup:
            return start + (1.0 - start) * step / warmup
        span = max(1, total_steps - warmup)
        progress = min(1.0, (step - warmup) / span)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def stepwise(step: float) -> float:
        return sched.gamma ** ((step // steps_per_epoch) // sched.step_size)

    return stepwise if sched.name == "step" else cosine


class Schedule:
    """A learning-rate schedule driven by optimizer steps and by validation results.

    Args:
        optimizer: the optimizer whose learning rates change.
        sched: the ``optimization.scheduler`` section.
        lr: the base learning rate.
        steps_per_epoch: optimizer steps in one epoch.
        total_steps: optimizer steps in the whole run.
        mode: ``min`` or ``max``, the direction of the value passed to :meth:`after_validation`.
        timed: follow the share of a time budget too (see the module notes); the share comes
            with each :meth:`after_step`.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        sched: Any,
        *,
        lr: float,
        steps_per_epoch: int,
        total_steps: int,
        mode: str,
        timed: bool = False,
    ) -> None:
        self.name = sched.name
        self.time_fraction = 0.0
        factor = lr_factor(sched, lr=lr, steps_per_epoch=steps_per_epoch, total_steps=total_steps)
        if factor is not None and timed:
            factor = self._timed(factor, total_steps)
        self.per_step = (
            None if factor is None else torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        )
        self.plateau = None
        if sched.name == "reduce_on_plateau":
            self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode=mode, factor=sched.factor, patience=sched.patience,
                min_lr=sched.min_lr,
            )  # fmt: skip
        self.optimizer = optimizer

    def _timed(self, by_step: Callable[[float], float], total_steps: int) -> Callable[[int], float]:
        def factor(step: int) -> float:
            return by_step(max(float(step), self.time_fraction * total_steps))

        return factor

    def after_step(self, time_fraction: float | None = None) -> None:
        """Advance the step-driven schedules by one optimizer step; ``time_fraction`` is the
        share of the time budget used now (timed schedules; it never goes back)."""
        if time_fraction is not None:
            self.time_fraction = max(self.time_fraction, float(time_fraction))
        if self.per_step is not None:
            self.per_step.step()

    def after_validation(self, value: float | None) -> None:
        """Feed the monitored value to ``reduce_on_plateau`` (None: not computed this epoch)."""
        if self.plateau is not None and value is not None:
            self.plateau.step(value)

    @property
    def lr(self) -> float:
        """The current learning rate of the first parameter group."""
        return float(self.optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, Any]:
        """State of the underlying torch scheduler."""
        inner = self.per_step or self.plateau
        state = {} if inner is None else inner.state_dict()
        state = {k: v for k, v in state.items() if k != "lr_lambdas"}
        return {"name": self.name, "state": state, "time_fraction": self.time_fraction}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the schedule kind must match)."""
        inner = self.per_step or self.plateau
        if inner is not None and state.get("name") == self.name:
            inner.load_state_dict({**state["state"], **_lambdas(inner)})
        self.time_fraction = float(state.get("time_fraction", 0.0))


def _lambdas(inner: Any) -> dict[str, Any]:
    # LambdaLR.load_state_dict expects the key; None keeps the current lambdas.
    return {"lr_lambdas": [None] * len(inner.lr_lambdas)} if hasattr(inner, "lr_lambdas") else {}
