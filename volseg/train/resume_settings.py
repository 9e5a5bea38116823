"""Resuming with new optimizer settings: what changed, and applying it after the restore.

A checkpoint restores the optimizer's parameter groups and the schedule's base learning rates
as they were, which would silently ignore a resume such as ``--resume RUN
optimization.optimizer.lr=1e-4`` (what the non-finite-loss message advises). Settings that do
not change the model may change on resume: the learning rate, weight decay, Adam's betas / eps,
SGD's momentum, the schedule's own settings (``min_lr``, warm-up, ``factor`` ...) and its length
(``max_epochs``, ``max_steps``). :func:`optimizer_changes` lists them; :func:`apply_settings`
puts the new values into the restored optimizer and rebuilds the schedule's position from them
(the step count is kept). Changing the optimizer or schedule *kind* is refused: their states
do not carry over.
"""

from __future__ import annotations

from typing import Any

from volseg.errors import VolsegError

_KEYS = ("optimizer", "scheduler")
_LENGTH = ("max_epochs", "max_steps")


def _flat(section: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {f"{prefix}.{k}": v for k, v in (section or {}).items()}


def optimizer_changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, old, new)`` for every optimization setting that differs between two configs.

    Args:
        old: the resolved config stored in the checkpoint.
        new: the resolved config of this run.

    Raises:
        VolsegError: the optimizer or schedule kind changed.
    """
    before = old.get("optimization") or {}
    after = new.get("optimization") or {}
    for section in _KEYS:
        name_old = (before.get(section) or {}).get("name")
        name_new = (after.get(section) or {}).get("name")
        if name_old is not None and name_old != name_new:
            raise VolsegError(
                f"cannot resume with optimization.{section}.name={name_new!r}: the run used "
                f"{name_old!r} and its state does not carry over; start a new run with "
                "--init-from instead."
            )
    flat_old, flat_new = {}, {}
    for section in _KEYS:
        flat_old.update(_flat(before.get(section), f"optimization.{section}"))
        flat_new.update(_flat(after.get(section), f"optimization.{section}"))
    for key in _LENGTH:
        flat_old[f"optimization.{key}"] = before.get(key)
        flat_new[f"optimization.{key}"] = after.get(key)
    return [
        (k, flat_old.get(k), flat_new.get(k))
        for k in sorted(set(flat_old) | set(flat_new))
        if flat_old.get(k) != flat_new.get(k)
    ]


def describe(changes: list[tuple[str, Any, Any]]) -> str:
    """One line for ``train.log``: ``key: old -> new`` for each change."""
    return ", ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in changes)


def apply_settings(
    optimizer: Any, schedule: Any, opt_cfg: Any, sched_cfg: Any, *, step: int
) -> None:
    """Put the config's optimizer settings into a restored optimizer and schedule.

    Args:
        optimizer: the restored optimizer (group 0 decayed, other groups not).
        schedule: the :class:`volseg.train.optim.Schedule` built from the new config, restored.
        opt_cfg: ``optimization.optimizer`` of the new config.
        sched_cfg: ``optimization.scheduler`` of the new config.
        step: optimizer steps done so far (the schedule continues from there).
    """
    lr = float(opt_cfg.lr)
    groups = optimizer.param_groups
    for i, group in enumerate(groups):
        group["weight_decay"] = float(opt_cfg.weight_decay) if i == 0 else 0.0
        if "betas" in group:
            group["betas"] = tuple(float(b) for b in opt_cfg.betas)
        if "eps" in group:
            group["eps"] = float(opt_cfg.eps)
        if "momentum" in group:
            group["momentum"] = float(opt_cfg.momentum)
        group["initial_lr"] = lr
    per_step = getattr(schedule, "per_step", None)
    plateau = getattr(schedule, "plateau", None)
    if per_step is not None:  # LambdaLR: new base lr, new factor, same position
        per_step.base_lrs = [lr] * len(groups)
        per_step.last_epoch = step
        for group, factor in zip(groups, per_step.lr_lambdas, strict=True):
            group["lr"] = lr * factor(step)
        per_step._last_lr = [group["lr"] for group in groups]
    else:
        floor = float(sched_cfg.min_lr) if plateau is not None else 0.0
        for group in groups:
            group["lr"] = max(lr, floor)
    if plateau is not None:
        plateau.min_lrs = [float(sched_cfg.min_lr)] * len(groups)
        plateau.factor = float(sched_cfg.factor)
        plateau.patience = int(sched_cfg.patience)
