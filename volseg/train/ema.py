"""Exponential moving average of the network weights (``optimization.ema``).

A thin layer over :class:`torch.optim.swa_utils.AveragedModel` with its EMA update: after each
optimizer step ``ema = decay * ema + (1 - decay) * weights`` for parameters *and* buffers
(batch-norm running statistics), so the averaged network can be validated as it is.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def make_ema(net: nn.Module, ema_cfg: Any) -> AveragedModel | None:
    """The averaged copy of ``net`` on its device, or None when EMA is disabled."""
    if not ema_cfg.enabled:
        return None
    ema = AveragedModel(
        net, multi_avg_fn=get_ema_multi_avg_fn(float(ema_cfg.decay)), use_buffers=True
    )
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
