"""Building a :class:`~volseg.train.session.Session`: data, network, loss, optimizer, schedule.

Kept apart from the epoch loop in :mod:`volseg.train.fit` so each stays short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError
from volseg.train.early_stop import EarlyStopping
from volseg.train.names import resolve_monitor


@dataclass
class Data:
    """Datasets and loaders of a run (validation ones are None without validation regions)."""

    split: Any
    train_set: Any
    train_loader: Any
    val_set: Any = None
    val_loader: Any = None


def make_data(cfg: Any, split: Any, seed: int) -> Data:
    """Patch datasets and loaders over ``split`` (deterministic per seed, epoch and index)."""
    from volseg.data.dataset import PatchDataset
    from volseg.data.loader import make_loader

    train_set = PatchDataset(cfg, split, train=True, seed=seed)
    data = Data(split, train_set, make_loader(train_set, cfg, train=True, seed=seed))
    if split.val:
        data.val_set = PatchDataset(cfg, split, train=False, seed=seed)
        data.val_loader = make_loader(data.val_set, cfg, train=False, seed=seed)
    return data


def val_regions(split: Any):
    """``(image, labels, mask, voxel_size)`` of each validation region, read one at a time."""
    from volseg.data.dataset import read_region

    for region in split.val:
        image, labels, mask = read_region(split, region)
        yield image, labels, mask, split.volumes[region.volume]["voxel_size"]


def check_without_data(cfg: Any) -> None:
    """The checks ``fit`` makes before reading any data: monitor names and their modes."""
    data = cfg.data  # without training data (a base file) the split cannot lack validation
    has_val = data.val_region is not None or bool(data.val_image) or not data.train_image
    monitors(cfg, has_val=has_val)


def monitors(cfg: Any, *, has_val: bool) -> tuple[str, str | None]:
    """Resolved names of the checkpoint monitor and the early-stopping monitor (or None)."""
    every = int(cfg.monitor.full_val_every_n_epochs)
    ck = cfg.monitor.checkpoint
    best = resolve_monitor(
        ck.monitor, ck.mode, key="monitor.checkpoint.monitor", full_val_every=every,
        has_val=has_val,
    )  # fmt: skip
    es = cfg.monitor.early_stopping
    early = None
    if es.enabled:
        early = resolve_monitor(
            es.monitor, es.mode, key="monitor.early_stopping.monitor", full_val_every=every,
            has_val=has_val,
        )  # fmt: skip
    return best, early


def early_stopping(cfg: Any) -> EarlyStopping | None:
    """The early-stopping rule of the config, or None when disabled."""
    es = cfg.monitor.early_stopping
    if not es.enabled:
        return None
    return EarlyStopping(
        mode=es.mode, patience=int(es.patience), min_delta=float(es.min_delta),
        smoothing=int(es.smoothing), divergence_threshold=es.divergence_threshold,
    )  # fmt: skip


def steps_per_epoch(loader: Any, cfg: Any) -> tuple[int, int]:
    """``(batches, optimizer steps)`` of one epoch."""
    try:
        batches = len(loader)
    except TypeError:
        batches = int(cfg.data.iter_num_per_epoch)
    if batches < 1:
        raise VolsegError("the training loader yields no batch; check data.iter_num_per_epoch.")
    return batches, math.ceil(batches / int(cfg.optimization.accumulate_grad_batches))


def total_steps(cfg: Any, per_epoch: int) -> int:
    """Optimizer steps of the whole run (``max_steps`` caps ``max_epochs``)."""
    total = int(cfg.optimization.max_epochs) * per_epoch
    if cfg.optimization.max_steps is not None:
        total = min(total, int(cfg.optimization.max_steps))
    return total


def load_initial_weights(
    net: Any, cfg: Any, init_from: str | Path | None
) -> tuple[str, Any] | None:
    """Fine-tuning: load ``init_from`` or ``model.external_weights_path`` into ``net``.

    Returns:
        ``(path, report)`` (:class:`volseg.checkpoint.WeightsReport`) or None when neither is set.
    """
    from volseg.checkpoint import load_external_weights

    path = init_from if init_from is not None else cfg.model.external_weights_path
    if path is None:
        return None
    prefix = cfg.model.external_weights_prefix or None
    report = load_external_weights(net, path, prefix=prefix)
    # The file itself, not a `latest` link that a later pre-training run moves on.
    return str(Path(path).resolve()), report
