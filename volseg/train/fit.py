"""``fit(cfg)``: train a network and return its run directory.

Per epoch: train (:mod:`volseg.train.loop`), validate on patches every
``monitor.val_every_n_epochs`` and on whole regions every ``monitor.full_val_every_n_epochs``
(both also after the last epoch), log one row, step ``reduce_on_plateau``, write ``best.pt``
when the monitored value improves and ``last.pt`` every ``checkpoint.every_n_epochs``, draw
figures, and stop early when the rule says so. Only rank 0 validates and writes files.

With ``optimization.max_time`` the whole fit runs to a wall-clock budget
(:mod:`volseg.train.time_budget`): training stops when the budget less the time kept for the
last validation and checkpoints is used, the schedule reaching its end at that moment; an epoch
end that would leave no room for another step becomes the last one (the schedule is then a step
and an epoch end short of its end). The checkpoints record the budget used, and ``--resume``
continues from there (``train.log`` says how much is left).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from volseg.config.duration import format_duration
from volseg.train import run_dir as rd
from volseg.train import setup as su
from volseg.train import time_budget
from volseg.train.lock import run_lock
from volseg.train.logger import CsvLogger, MultiLogger, TensorBoardLogger
from volseg.train.resume_settings import apply_settings, describe, optimizer_changes
from volseg.train.session import Session, check_resumable


def fit(
    cfg: Any,
    *,
    resume: str | Path | None = None,
    init_from: str | Path | None = None,
    split: str | Path | None = None,
    run_root: str | Path = "runs",
    progress: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> Path:
    """Train with the config ``cfg`` and return the run directory.

    Args:
        cfg: a loaded config (:func:`volseg.config.load`).
        resume: a run directory to continue from its ``checkpoints/last.pt`` (same split,
            same data order; the model section must be unchanged).
        init_from: a checkpoint or state dict to start from (fine-tuning); overrides
            ``model.external_weights_path``.
        split: a ``split.json`` to reuse (compare configs on one validation set).
        run_root: parent of ``<experiment_name>/<timestamp>/``.
        progress: draw a progress bar (default: when stderr is a terminal).
        echo: where to print notes (weights report, stop reason, time budget); they also go
            to ``train.log`` in the run directory.

    Returns:
        The run directory.

    Raises:
        VolsegError: bad input (see the messages), out of memory, or a non-finite loss
            (:class:`volseg.train.loop.TrainingStopped`).
    """
    from volseg.checkpoint import load_checkpoint
    from volseg.data.split import make_split
    from volseg.train.devices import make_fabric, resolve_seed, seed_all

    started = time_budget.CLOCK()  # max_time counts the whole fit
    fabric = make_fabric(cfg)
    ckpt, run_dir, changes = None, None, []
    locks = ExitStack()  # the run directory's lock, held until training ends
    threads = torch.get_num_threads()
    if fabric.device.type == "cpu":
        torch.set_num_threads(int(cfg.system.training.num_cpus))
    try:
        if resume is not None:
            run_dir = Path(resume)
            ckpt_path = rd.last_checkpoint(run_dir)
            if fabric.is_global_zero:
                locks.enter_context(run_lock(run_dir))
            ckpt = load_checkpoint(ckpt_path)
            check_resumable(ckpt, OmegaConf.to_container(cfg.model), ckpt_path)
            changes = optimizer_changes(ckpt.get("config") or {}, OmegaConf.to_container(cfg))
            split = rd.split_path(run_dir)
        seed = int(ckpt["extra"]["seed"]) if ckpt else resolve_seed(cfg.system.seed)
        seed_all(seed, deterministic=bool(cfg.system.deterministic))
        # Everything that can fail on bad input happens before the run directory exists.
        the_split = make_split(cfg, reuse=split)
        _refuse_inputs(Path(run_dir or Path(run_root) / cfg.experiment_name), the_split)
        best_name, early_name = su.monitors(cfg, has_val=bool(the_split.val))
        data = su.make_data(cfg, the_split, seed)
        s = _session(cfg, fabric, data, seed, best_name, early_name)
        loaded = None if ckpt else su.load_initial_weights(s.net, cfg, init_from)
        if loaded is not None and s.ema is not None:
            s.ema.module.load_state_dict(s.net.state_dict())
        if run_dir is None:
            made = rd.new_run_dir(run_root, cfg.experiment_name) if fabric.is_global_zero else None
            run_dir = Path(fabric.broadcast(str(made) if made else None))
            if fabric.is_global_zero:
                locks.enter_context(run_lock(run_dir))
        s.run_dir = run_dir
        if cfg.optimization.max_time is not None:
            s.budget = time_budget.TimeBudget(cfg.optimization.max_time, started=started)
        s.config = OmegaConf.to_container(cfg, resolve=True)
        s.config["system"]["seed"] = seed
        if loaded is not None and init_from is None:  # on record: the file the link named
            s.config["model"]["external_weights_path"] = loaded[0]
        if s.is_main:
            rd.write_config(run_dir, s.config)
            the_split.to_json(run_dir / rd.SPLIT)
        note = _notes(run_dir, echo, enabled=s.is_main)
        if ckpt is not None:
            s.restore(ckpt)
            note(f"resumed from {ckpt_path} at epoch {s.epoch}, step {s.step}")
            recorded = (ckpt.get("extra") or {}).get("budget")
            if s.budget is not None:
                fresh = "" if recorded else " (the checkpoint recorded none: counted from now)"
                note(f"time budget: {s.budget.describe()}{fresh}")
            elif recorded:
                note("the run had a max_time, this config has none: the schedule follows the steps")
            if changes:
                opt = cfg.optimization
                apply_settings(s.optimizer, s.schedule, opt.optimizer, opt.scheduler, step=s.step)
                note(f"changed on resume: {describe(changes)}; the schedule continues from them")
        elif loaded is not None:
            note(f"initial weights from {loaded[0]}: {loaded[1]}")
        if ckpt is None and s.budget is not None:
            note(f"training to max_time {format_duration(s.budget.seconds)} of wall time "
                 "(validation and checkpoints included)")  # fmt: skip
        _attach_logger(s, resumed=ckpt is not None)
        try:
            _run(s, s.data, progress=progress, note=note)
        finally:
            s.logger.close()
        if s.is_main:
            rd.mark_latest(run_dir)
    finally:
        locks.close()
        torch.set_num_threads(threads)
    return run_dir


def _refuse_inputs(out: Path, the_split: Any) -> None:
    """The run directory must not be, contain or lie inside a training volume."""
    from volseg.io.guard import refuse_overlap

    roles = {}
    for i, vol in enumerate(the_split.volumes):
        for role in ("image", "label", "mask"):
            roles[f"{role} of volume {i}"] = vol.get(role)
    refuse_overlap(out, roles, option="the run directory")


def _session(cfg, fabric, data, seed, best_name, early_name) -> Session:
    from volseg.losses import build as build_loss
    from volseg.models import build as build_model
    from volseg.train.ema import make_ema
    from volseg.train.loop import Trainable
    from volseg.train.optim import Schedule, build_optimizer, param_groups

    net = build_model(cfg.model)
    loss = build_loss(cfg.model, targets=cfg.data.label_transform.targets)
    trainable = Trainable(net, loss).to(fabric.device)
    opt_cfg = cfg.optimization.optimizer
    optimizer = build_optimizer(param_groups(net, loss, opt_cfg.weight_decay), opt_cfg)
    trainable, optimizer = fabric.setup(trainable, optimizer)
    batches, per_epoch = su.steps_per_epoch(data.train_loader, cfg)
    distributed = fabric.world_size > 1
    data.train_loader = fabric.setup_dataloaders(
        data.train_loader, use_distributed_sampler=distributed
    )
    schedule = Schedule(
        optimizer, cfg.optimization.scheduler, lr=float(opt_cfg.lr), steps_per_epoch=per_epoch,
        total_steps=su.total_steps(cfg, per_epoch), mode=cfg.monitor.checkpoint.mode,
        timed=cfg.optimization.max_time is not None,
    )  # fmt: skip
    s = Session(
        cfg=cfg, config={}, run_dir=Path(), fabric=fabric, net=net, loss=loss,
        trainable=trainable, optimizer=optimizer, schedule=schedule,
        ema=make_ema(net, cfg.optimization.ema), seed=seed, monitor=best_name,
        mode=cfg.monitor.checkpoint.mode, early=su.early_stopping(cfg), early_monitor=early_name,
    )  # fmt: skip
    s.data, s.batches, s.per_epoch = data, batches, per_epoch
    return s


def _notes(run_dir: Path, echo: Callable[[str], None] | None, *, enabled: bool):
    log = run_dir / "train.log"

    def note(text: str) -> None:
        if not enabled:
            return
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"{dt.datetime.now().isoformat(timespec='seconds')} {text}\n")
        if echo is not None:
            echo(text)

    return note


def _attach_logger(s: Session, *, resumed: bool) -> None:
    if not s.is_main:
        return
    resume_step = s.step if resumed else None
    csv = CsvLogger(s.run_dir / rd.METRICS, resume_step=resume_step)
    loggers = [csv]
    if s.cfg.monitor.logging.tensorboard:
        loggers.append(TensorBoardLogger(s.run_dir, resume_step=resume_step))
    s.logger = MultiLogger(loggers)
    s.csv = csv


def _due(epoch: int, every: int, final: bool) -> bool:
    return every > 0 and (epoch % every == 0 or final)


def _run(s: Session, data: su.Data, *, progress: bool | None, note: Callable[[str], None]) -> None:
    from volseg.train.epoch_end import end_of_epoch
    from volseg.train.loop import train_epoch
    from volseg.train.progress import EpochProgress

    max_epochs = int(s.cfg.optimization.max_epochs)
    max_steps = s.cfg.optimization.max_steps
    if s.epoch >= max_epochs or (max_steps is not None and s.step >= max_steps):
        note(f"nothing to do: the run already finished {s.epoch} epoch(s), {s.step} step(s)")
        return
    if s.step > 0 and _no_room(s):  # a new run trains at least one step, whatever set-up took
        note(
            f"nothing to do: the time budget is spent ({s.budget.describe()}); raise "
            "optimization.max_time to train longer"
        )
        return
    with EpochProgress(enabled=progress, total_epochs=max_epochs) as bar:
        while s.epoch < max_epochs:
            data.train_set.set_epoch(s.epoch)
            bar.start_epoch(s.epoch + 1, s.per_epoch)
            result = train_epoch(s, data.train_loader, n_batches=s.batches, on_step=bar.step)
            s.epoch += 1
            final = s.epoch == max_epochs or result.reached_limit or _no_room(s, end=True)
            reason = end_of_epoch(s, data, result, final=final, due=_due)
            if reason is not None:
                note(f"early stop after epoch {s.epoch}: {reason}")
            if final or reason is not None:
                break
            if _no_room(s):  # this epoch's end took longer than the reserve allowed
                _save_last(s)
                note(f"the time budget ran out during the end of epoch {s.epoch}")
                break
    spent = "" if s.budget is None else f"; {s.budget.describe()}"
    note(f"finished after epoch {s.epoch}, step {s.step}; best {s.monitor} = {s.best}{spent}")


def _no_room(s: Session, *, end: bool = False) -> bool:
    """Whether the budget has no room for another step (after an epoch end, with ``end``)."""
    if s.budget is None:
        return False
    ahead = s.budget.step_seconds + (s.budget.reserve() if end else 0.0)
    return time_budget.shared_fraction(s, ahead=ahead) >= 1.0


def _save_last(s: Session) -> None:
    ckpt = s.cfg.monitor.checkpoint
    if s.is_main and ckpt.save_last and s.epoch % int(ckpt.every_n_epochs) != 0:
        s.save(s.run_dir / rd.CHECKPOINTS / rd.LAST)
