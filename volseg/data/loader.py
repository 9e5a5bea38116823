"""``make_loader(dataset, cfg, *, train, seed) -> DataLoader`` for a :class:`PatchDataset`.

Batch size and workers come from ``system.training`` (``batch_size``, ``num_workers``); validation
uses the same. Workers are persistent, each seeded by ``worker_init_fn`` (numpy, ``random`` and
torch from the loader's seeded generator; one torch thread per worker), and ``pin_memory`` is on
only when CUDA is available.

Training batches follow the epoch without re-creating workers: the loader's
:class:`EpochSampler` reads ``dataset.epoch`` when iteration starts and sends ``(epoch, i)`` to
the workers, so call ``dataset.set_epoch(e)`` *before* ``iter(loader)`` (i.e. before the
``for batch in loader`` of epoch ``e``). Items do not depend on which worker makes them, so a run
is reproducible for any ``num_workers``.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from volseg.data.split import as_dict


class EpochSampler(Sampler):
    """Yields ``(dataset.epoch, i)`` for ``i`` in ``range(len(dataset))``; the epoch is read when
    iteration starts."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch = int(getattr(self.dataset, "epoch", 0))
        return iter([(epoch, i) for i in range(len(self))])

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]


def _init_worker(worker_id: int, *, seed: int) -> None:
    """Seed a worker's global generators; keep it to one torch thread (2-core machines)."""
    info = torch.utils.data.get_worker_info()
    base = info.seed if info is not None else seed + worker_id
    np.random.seed(base % 2**32)  # noqa: NPY002 - the global generator libraries may use
    random.seed(base)
    torch.set_num_threads(1)


def worker_init_fn(seed: int) -> functools.partial:
    """A picklable ``worker_init_fn`` for DataLoader workers of a run seeded with ``seed``."""
    return functools.partial(_init_worker, seed=int(seed))


def make_loader(dataset: Dataset, cfg: Any, *, train: bool, seed: int) -> DataLoader:
    """A DataLoader over ``dataset`` with the config's batch size and workers.

    Args:
        dataset: a :class:`~volseg.data.dataset.PatchDataset` (any map-style dataset works;
            training datasets must accept ``(epoch, i)`` items).
        cfg: loaded config (or plain dict) with ``system.training``.
        train: training order (``EpochSampler``) or validation order (0..n-1).
        seed: seeds the loader's generator and thus the workers.
    """
    t = as_dict(cfg)["system"]["training"]
    workers = int(t["num_workers"])
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    sampler: Any = EpochSampler(dataset) if train else None
    return DataLoader(
        dataset,
        batch_size=int(t["batch_size"]),
        shuffle=False,
        sampler=sampler,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=workers > 0,
        worker_init_fn=worker_init_fn(seed) if workers > 0 else None,
        generator=generator,
        drop_last=False,
    )
