"""What happens after each training epoch: validation, the epoch row, checkpoints, figures,
the plateau schedule and early stopping. With a time budget each part is timed (patch and
whole-region validation, checkpoints and figures): the longest times are the reserve kept for
the last epoch end (:mod:`volseg.train.time_budget`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from volseg.train import run_dir as rd
from volseg.train.loop import EpochResult, is_oom, oom_error
from volseg.train.session import Session, finite_or_none
from volseg.train.time_budget import timed


def validate(s: Session, data: Any, *, patch: bool, full: bool) -> tuple[dict, dict]:
    """Patch and/or whole-region validation on rank 0; ``(values, figure examples)``."""
    from volseg.train.ema import validation_net
    from volseg.train.full_val import full_validation
    from volseg.train.setup import val_regions
    from volseg.train.validate import patch_validation

    values: dict[str, float] = {}
    examples: dict[str, Any] = {}
    if not s.is_main or data.val_loader is None:
        return values, examples
    net = validation_net(s.net, s.ema, s.cfg.optimization.ema)
    try:
        if patch:
            with timed(s.budget, "patch validation"):
                v, examples["patch"] = patch_validation(
                    net, s.loss, data.val_loader, device=s.device, autocast=s.fabric.autocast()
                )
            values.update(v)
        if full:
            with timed(s.budget, "whole-region validation"):
                v, examples["region"] = full_validation(
                    net, val_regions(data.split), cfg=s.cfg, device=s.device,
                    autocast=s.fabric.autocast(),
                )  # fmt: skip
            values.update(v)
    except RuntimeError as exc:
        if is_oom(exc):
            raise oom_error(s.cfg, "validation") from exc
        raise
    return values, examples


def end_of_epoch(
    s: Session, data: Any, result: EpochResult, *, final: bool, due: Callable[..., bool]
) -> str | None:
    """Validate, log, checkpoint and draw after epoch ``s.epoch``; the early-stop reason."""
    mon = s.cfg.monitor
    patch = due(s.epoch, int(mon.val_every_n_epochs), final)
    full = due(s.epoch, int(mon.full_val_every_n_epochs), final)
    values, examples = validate(s, data, patch=patch, full=full)
    values = s.fabric.broadcast(values)
    row = {
        "train/epoch_loss": result.loss,
        "train/epoch_seconds": result.seconds,
        "train/steps_per_s": result.steps / max(result.seconds, 1e-9),
        "train/lr": s.schedule.lr,
        **values,
    }
    if s.budget is not None:
        row["train/budget_used"] = s.budget.elapsed() / s.budget.seconds
    if s.is_main:
        s.logger.log(row, step=s.step, epoch=s.epoch)
        s.logger.flush()
    s.check_values(row)
    watched = finite_or_none(row.get(s.monitor)) if s.monitor in row else None
    s.schedule.after_validation(watched)
    reason = None
    if s.early is not None and s.early_monitor in row:
        reason = s.early.update(float(row[s.early_monitor]))
    improved = s.is_better(watched)
    if improved:
        s.best = watched
    s.check_weights()
    if s.is_main:
        with timed(s.budget, "checkpoints and figures"):
            write(s, examples, improved=improved, final=final or reason is not None, due=due)
    s.fabric.barrier()
    return reason


def write(
    s: Session, examples: dict[str, Any], *, improved: bool, final: bool, due: Callable[..., bool]
) -> None:
    """``best.pt`` when ``improved``, ``last.pt`` and figures when due (rank 0)."""
    ckpt = s.cfg.monitor.checkpoint
    folder = s.run_dir / rd.CHECKPOINTS
    if improved:
        s.save(folder / rd.BEST, extra={"best_epoch": s.epoch})
    if ckpt.save_last and (s.epoch % int(ckpt.every_n_epochs) == 0 or final):
        s.save(folder / rd.LAST)
    if due(s.epoch, int(s.cfg.monitor.logging.figures_every_n_epochs), final):
        draw(s, examples)


def draw(s: Session, examples: dict[str, Any]) -> None:
    """Validation slices of this epoch and the curves so far, under ``figures/``."""
    from volseg.models.heads import parse_tasks
    from volseg.train.figures import save_curves, save_slices

    folder = s.run_dir / rd.FIGURES
    tasks = sorted(parse_tasks(s.cfg.model), key=lambda t: t.start)
    kinds = {t.name: "signed" if t.activation == "tanh" else "prob" for t in tasks}
    channel_names = [t.name for t in tasks for _ in range(t.start, t.end)]
    region = examples.get("region")
    patch = examples.get("patch")
    if region is not None:
        panels = [("input", region["image"], "image"), ("ground truth", region["labels"], "labels")]
        panels += [
            (f"pred {n}", m, kinds[n]) for n, m in zip(channel_names, region["maps"], strict=True)
        ]
        panels.append(("decoded", region["seg"], "labels"))
        save_slices(folder / f"region_epoch{s.epoch:04d}.png", panels)
    if patch is not None:
        z = patch["image"].shape[1] // 2
        from volseg.channels import per_channel_names

        targets = per_channel_names(s.cfg.data.label_transform.targets)
        panels = [("input", patch["image"][0, z], "image")]
        panels += [
            (f"target {n}", np.where(t[z] == -1, np.nan, t[z]), kinds.get(n, "prob"))
            for n, t in zip(targets, patch["targets"], strict=True)
        ]
        panels += [
            (f"pred {n}", m[z], kinds[n]) for n, m in zip(channel_names, patch["maps"], strict=True)
        ]
        save_slices(folder / f"patch_epoch{s.epoch:04d}.png", panels)
    if s.csv is not None:
        save_curves(folder / "curves.png", s.csv.rows)
