"""One training epoch: forward, loss, backward with accumulation, clipping, step, EMA, logging.

The network and the loss module are wrapped together (:class:`Trainable`) so that one
``fabric.setup`` call covers both: learnable loss weights get their gradients synchronised
under DDP like the network's. A non-finite loss stops training with :class:`TrainingStopped`
(the last checkpoint on disk is the last good one); running out of memory becomes a
:class:`VolsegError` naming the settings to lower.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from volseg.errors import VolsegError


class TrainingStopped(VolsegError):
    """Training cannot go on (non-finite loss or weights); checkpoints on disk are intact."""


class Trainable(nn.Module):
    """Network plus loss: ``forward(image, targets, mask) -> (total, parts)``.

    The loss is computed in float32 outside autocast (mixed precision only speeds up the
    network). With GradNorm balancing its weight update runs after each forward pass.
    """

    def __init__(self, net: nn.Module, loss: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.loss = loss

    def forward(
        self, image: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        outputs = self.net(image)
        with torch.autocast(device_type=image.device.type, enabled=False):
            if isinstance(outputs, list | tuple):
                outputs = [o.float() for o in outputs]
            else:
                outputs = outputs.float()
            total, parts = self.loss(outputs, targets.float(), mask)
            parts = dict(parts)
            parts.update(self.loss.update(self.net.parameters()))
        return total, parts


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-memory error of torch (CUDA or CPU allocator)."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def oom_error(cfg: Any, where: str) -> VolsegError:
    """The message for running out of memory: which settings to lower."""
    return VolsegError(
        f"out of memory during {where} (batch size {cfg.system.training.batch_size}, patch "
        f"{list(cfg.model.input_size)}, filters {list(cfg.model.filters or [])}); lower "
        "system.training.batch_size first, then model.input_size (the patch size) or "
        "model.filters, or use optimization.precision='bf16-mixed' on a GPU."
    )


@dataclass
class EpochResult:
    """What an epoch did: mean loss, optimizer steps, seconds, and whether it hit
    ``max_steps`` or used up the time budget (``optimization.max_time``)."""

    loss: float
    steps: int
    seconds: float
    reached_limit: bool = False
    parts: dict[str, float] = field(default_factory=dict)


class _Mean:
    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.n = 0

    def add(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.n += 1

    def pop(self) -> dict[str, float]:
        out = {k: v / max(1, self.n) for k, v in self.sums.items()}
        self.sums, self.n = {}, 0
        return out


def train_epoch(
    s: Any,
    batches: Iterable[dict[str, Any]],
    *,
    n_batches: int,
    on_step: Callable[[dict[str, float]], None] | None = None,
) -> EpochResult:
    """Train one epoch of the session ``s`` (see :class:`volseg.train.session.Session`).

    Args:
        s: the session (fabric, trainable, optimizer, schedule, ema, counters, logger).
        batches: training batches on the device.
        n_batches: batches in this epoch (for accumulation boundaries).
        on_step: called after each optimizer step with the latest values (progress bar).
    """
    from volseg.train.ema import update_ema
    from volseg.train.session import kept_checkpoints
    from volseg.train.time_budget import shared_fraction

    cfg = s.cfg
    accum = int(cfg.optimization.accumulate_grad_batches)
    clip = float(cfg.optimization.gradient_clip_val)
    every = int(cfg.monitor.logging.every_n_steps)
    max_steps = cfg.optimization.max_steps
    s.trainable.train()
    window, log_window, epoch_mean = _Mean(), _Mean(), _Mean()
    start, steps, reached = time.perf_counter(), 0, False
    if s.budget is not None:
        s.budget.new_epoch()
    s.optimizer.zero_grad(set_to_none=True)
    for i, batch in enumerate(batches):
        last = (i + 1) % accum == 0 or i + 1 == n_batches
        sync = s.fabric.no_backward_sync(s.trainable, enabled=not last) if s.distributed else None
        try:
            with sync or nullcontext():
                total, parts = s.trainable(batch["image"], batch["targets"], batch.get("mask"))
                value = float(total.detach())
                if not math.isfinite(value):
                    raise TrainingStopped(
                        f"the training loss became {value} at epoch {s.epoch + 1}, step "
                        f"{s.step + 1}; training stopped and {kept_checkpoints(s.run_dir)}; lower "
                        "optimization.optimizer.lr or set "
                        "optimization.gradient_clip_val."
                    )
                s.fabric.backward(total / accum)
        except RuntimeError as exc:
            if is_oom(exc):
                raise oom_error(cfg, "training") from exc
            raise
        window.add({"train/loss": value, **{f"train/{k}": float(v) for k, v in parts.items()}})
        if not last:
            continue
        values = {}
        if clip > 0:
            norm = s.fabric.clip_gradients(
                s.trainable, s.optimizer, max_norm=clip, error_if_nonfinite=False
            )
            if norm is not None:
                values["train/grad_norm"] = float(norm)
        s.optimizer.step()
        s.optimizer.zero_grad(set_to_none=True)
        values["train/lr"] = s.schedule.lr
        fraction = shared_fraction(s, step=True)
        s.schedule.after_step(fraction)
        update_ema(s.ema, s.net)
        s.step += 1
        steps += 1
        values.update(window.pop())
        epoch_mean.add(values)
        log_window.add(values)
        if s.step % every == 0 and s.is_main:
            s.logger.log(log_window.pop(), step=s.step, epoch=s.epoch + 1)
        if on_step is not None:
            on_step(values)
        if max_steps is not None and s.step >= max_steps:
            reached = True
            break
        if fraction is not None and fraction >= 1.0:
            reached = True
            break
    means = epoch_mean.pop()
    return EpochResult(
        loss=means.get("train/loss", float("nan")),
        steps=steps,
        seconds=time.perf_counter() - start,
        reached_limit=reached,
        parts=means,
    )
