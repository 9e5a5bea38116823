"""Everything a training run holds, built from the config; checkpoint save and restore.

A :class:`Session` owns the Fabric, the raw network and loss (for checkpoints), their
Fabric-wrapped :class:`~volseg.train.loop.Trainable`, the optimizer, schedule, EMA copy, early
stopping, best value, counters and logger. :meth:`Session.save` writes a checkpoint with
everything needed to continue bit for bit: model, optimizer, scheduler, EMA, grad scaler,
loss-module state, epoch, step, best value, early-stopping state, the RNG states and the time
budget used so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from volseg.errors import VolsegError
from volseg.train.early_stop import EarlyStopping, improves
from volseg.train.logger import Logger


@dataclass
class Session:
    """The live objects and counters of a run (built by :func:`volseg.train.fit.fit`)."""

    cfg: Any
    config: dict[str, Any]
    run_dir: Path
    fabric: Any
    net: nn.Module
    loss: nn.Module
    trainable: nn.Module
    optimizer: Any
    schedule: Any
    ema: Any
    seed: int
    monitor: str
    mode: str
    early: EarlyStopping | None = None
    early_monitor: str | None = None
    logger: Logger = field(default_factory=Logger)
    epoch: int = 0
    step: int = 0
    best: float | None = None
    data: Any = None
    batches: int = 0
    per_epoch: int = 0
    csv: Any = None
    budget: Any = None  # a volseg.train.time_budget.TimeBudget with optimization.max_time

    @property
    def is_main(self) -> bool:
        """Whether this process writes files (rank 0)."""
        return bool(self.fabric.is_global_zero)

    @property
    def distributed(self) -> bool:
        """Whether gradients are synchronised across processes."""
        return int(self.fabric.world_size) > 1

    @property
    def device(self) -> torch.device:
        return self.fabric.device

    def scaler(self) -> Any:
        """The fp16 gradient scaler of the precision plugin, if any."""
        return getattr(self.fabric.strategy.precision, "scaler", None)

    def is_better(self, value: float | None) -> bool:
        """Whether ``value`` of the monitored metric beats the best so far."""
        return value is not None and improves(value, self.best, self.mode)

    def kept(self) -> str:
        """What is on disk to go back to (see :func:`kept_checkpoints`)."""
        return kept_checkpoints(self.run_dir)

    def check_values(self, row: dict[str, Any]) -> None:
        """Stop on a non-finite loss or an infinite metric of the epoch row (before saving).

        A NaN score other than a loss is allowed: adapted Rand is NaN on a region without labels.
        """
        for key, value in row.items():
            number = float(value)
            if math.isinf(number) or ("loss" in key and math.isnan(number)):
                raise _stopped(
                    f"{key} became {number} at epoch {self.epoch}; training stopped and "
                    f"{self.kept()}; lower optimization.optimizer.lr or set "
                    "optimization.gradient_clip_val."
                )

    def check_weights(self) -> None:
        """Refuse to checkpoint non-finite weights or buffers (BatchNorm statistics, EMA)."""
        modules = [("", self.net), ("loss ", self.loss)]
        if self.ema is not None:
            modules.append(("EMA ", self.ema.module))
        for prefix, module in modules:
            tensors = [*module.named_parameters(), *module.named_buffers()]
            for name, p in tensors:
                if p.is_floating_point() and not bool(torch.isfinite(p).all()):
                    raise _stopped(
                        f"{prefix}weight {name} became non-finite at epoch {self.epoch}; training "
                        f"stopped and {self.kept()}; lower optimization.optimizer.lr."
                    )

    def save(self, path: Path, *, extra: dict[str, Any] | None = None) -> Path:
        """Write a checkpoint (atomic; see :func:`volseg.checkpoint.save_checkpoint`)."""
        from volseg.checkpoint import save_checkpoint
        from volseg.train.devices import rng_state

        state = {
            "seed": self.seed,
            "monitor": self.monitor,
            "rng": rng_state(),
            "early_stop": None if self.early is None else self.early.state_dict(),
            "budget": None if self.budget is None else self.budget.state_dict(),
            **(extra or {}),
        }
        return save_checkpoint(
            path, model=self.net, model_cfg=self.cfg.model, config=self.config,
            optimizer=self.optimizer, scheduler=self.schedule, ema=self.ema,
            scaler=self.scaler(), loss_module=self.loss, epoch=self.epoch, step=self.step,
            best_metric=self.best, extra=state,
        )  # fmt: skip

    def restore(self, ckpt: dict[str, Any]) -> None:
        """Load a checkpoint read by :func:`volseg.checkpoint.load_checkpoint`."""
        from volseg.train.devices import set_rng_state

        self.net.load_state_dict(ckpt["model_state"])
        if ckpt.get("loss_state") is not None:
            self.loss.load_state_dict(ckpt["loss_state"])
        if ckpt.get("optimizer_state") is not None:
            self.optimizer.load_state_dict(ckpt["optimizer_state"])
        if ckpt.get("scheduler_state") is not None:
            self.schedule.load_state_dict(ckpt["scheduler_state"])
        if self.ema is not None and ckpt.get("ema_state") is not None:
            self.ema.load_state_dict(ckpt["ema_state"])
        scaler = self.scaler()
        if scaler is not None and ckpt.get("scaler_state") is not None:
            scaler.load_state_dict(ckpt["scaler_state"])
        extra = ckpt.get("extra") or {}
        if self.early is not None and extra.get("early_stop") is not None:
            self.early.load_state_dict(extra["early_stop"])
        if self.budget is not None and extra.get("budget") is not None:
            self.budget.load_state_dict(extra["budget"])
        self.epoch, self.step = int(ckpt["epoch"]), int(ckpt["step"])
        best = ckpt.get("best_metric")
        same_monitor = extra.get("monitor") == self.monitor
        self.best = float(best) if best is not None and same_monitor else None
        if extra.get("rng") is not None:
            set_rng_state(extra["rng"])


def kept_checkpoints(run_dir: Path) -> str:
    """The last good checkpoints of ``run_dir`` for a message, or that none was written."""
    from volseg.train import run_dir as rd

    folder = Path(run_dir) / rd.CHECKPOINTS
    saved = [folder / n for n in (rd.LAST, rd.BEST) if (folder / n).is_file()]
    if not saved:
        return "no checkpoint was written"
    return "the last good checkpoint is kept: " + " and ".join(str(p) for p in saved)


def _stopped(message: str) -> VolsegError:
    from volseg.train.loop import TrainingStopped

    return TrainingStopped(message)


def check_resumable(ckpt: dict[str, Any], model_cfg: dict[str, Any], path: Path) -> None:
    """The checkpoint's network must be the one the config builds."""
    stored = ckpt.get("model_cfg") or {}
    keys = ("external_weights_path", "external_weights_prefix")
    diff = sorted(
        k
        for k in set(stored) | set(model_cfg)
        if k not in keys and stored.get(k) != model_cfg.get(k)
    )
    if diff:
        shown = ", ".join(f"model.{k}: {stored.get(k)!r} -> {model_cfg.get(k)!r}" for k in diff[:3])
        raise VolsegError(
            f"cannot resume from {path}: the config changes the model ({shown}); resume with the "
            "same model section, or start a new run with --init-from."
        )


def finite_or_none(value: Any) -> float | None:
    """``float(value)`` when finite, else None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
