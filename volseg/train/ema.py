"""Exponential moving average of the network weights (``optimization.ema``).

A thin layer over :class:`torch.optim.swa_utils.AveragedModel`: after each optimizer step
``ema = d * ema + (1 - d) * weights`` for parameters *and* buffers (batch-norm running
statistics), so the averaged network can be validated as it is.

``d`` is ``decay``, or with ``warmup`` (the default) ``min(decay, (1 + n) / (10 + n))`` after
``n`` earlier updates (the rule of TensorFlow's ``ExponentialMovingAverage(num_updates=)``).
Without warm-up a decay of 0.999 keeps 88 % of the first step's (random) weights after 130
steps, so a short run, a CPU budget, validates and saves an almost untrained network.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


def step_decay(decay: float, updates: int, *, warmup: bool) -> float:
    """The decay of the update after ``updates`` earlier ones (see the module notes)."""
    return min(decay, (1.0 + updates) / (10.0 + updates)) if warmup else decay


def _ema_update(decay: float, warmup: bool):
    # torch's get_ema_multi_avg_fn has a fixed decay; this one reads the update count that
    # AveragedModel passes (a tensor) for the warm-up.
    @torch.no_grad()
    def update(ema_params: list, params: list, updates: torch.Tensor | int) -> None:
        d = step_decay(decay, int(updates), warmup=warmup)
        if torch.is_floating_point(ema_params[0]) or torch.is_complex(ema_params[0]):
            torch._foreach_lerp_(ema_params, params, 1.0 - d)
        else:  # integer buffers (batch-norm's num_batches_tracked)
            for e, p in zip(ema_params, params, strict=True):
                e.copy_(e * d + p * (1.0 - d))

    return update


def make_ema(net: nn.Module, ema_cfg: Any) -> AveragedModel | None:
    """The averaged copy of ``net`` on its device, or None when EMA is disabled."""
    if not ema_cfg.enabled:
        return None
    decay = float(ema_cfg.decay)
    warm = bool(getattr(ema_cfg, "warmup", True))
    ema = AveragedModel(net, multi_avg_fn=_ema_update(decay, warm), use_buffers=True)
    ema.eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


@torch.no_grad()
def update_ema(ema: AveragedModel | None, net: nn.Module) -> None:
    """One EMA step from the current weights of ``net`` (no-op without EMA)."""
    if ema is not None:
        ema.update_parameters(net)


def validation_net(net: nn.Module, ema: AveragedModel | None, ema_cfg: Any) -> nn.Module:
    """The network to validate: the EMA copy when enabled and asked for, else ``net``."""
    if ema is not None and ema_cfg.use_for_validation:
        return ema.module
    return net
