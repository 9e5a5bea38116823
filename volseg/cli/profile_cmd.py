"""``volseg profile-data CONFIG [OVERRIDES]...``: how fast the training data pipeline runs.

Builds the split and the training :class:`~volseg.data.dataset.PatchDataset` of a config, then
times ``--patches`` patches in this process and again through the configured DataLoader workers
(``system.training.num_workers``; a second pass through the persistent workers, so worker
start-up is left out), and prints patches/s, the patch and target shapes, and the share of
patches holding foreground (read from the first of the ``binary``, ``instance_edt`` or
``semantic_edt`` targets).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

#: Targets from which "this patch holds foreground" can be read, with the threshold.
FOREGROUND_FROM = {"binary": 0.5, "instance_edt": 0.0, "semantic_edt": 0.0}


def _foreground(targets: Any, mask: Any, names: list[str]) -> Any:
    """Per patch of a batch: does any valid voxel hold foreground? None if no target tells."""
    for channel, name in enumerate(names):
        if name in FOREGROUND_FROM:
            fg = (targets[:, channel] > FOREGROUND_FROM[name]) & (mask[:, 0] > 0)
            return fg.flatten(1).any(dim=1)
    return None


def _time_single(ds: Any, n: int, names: list[str]) -> tuple[float, int | None]:
    hits: int | None = 0
    start = time.perf_counter()
    for i in range(n):
        item = ds[i]
        fg = _foreground(item["targets"][None], item["mask"][None], names)
        hits = None if fg is None or hits is None else hits + int(fg.sum())
    return n / (time.perf_counter() - start), hits


def _time_workers(ds: Any, cfg: Any, n: int) -> float:
    """Steady-state patches/s through the configured loader: one untimed pass starts the
    persistent workers and warms their caches, the next pass (a new epoch) is timed."""
    from volseg.data.loader import make_loader

    ds.length = n  # this profile's epochs are n patches long
    loader = make_loader(ds, cfg, train=True, seed=0)
    rates = []
    for epoch in (1, 2):
        ds.set_epoch(epoch)
        start = time.perf_counter()
        count = sum(batch["image"].shape[0] for batch in loader)
        rates.append(count / (time.perf_counter() - start))
    return rates[-1]


def profile_data(
    config: Path = typer.Argument(..., help="YAML config.", show_default=False),
    overrides: list[str] | None = typer.Argument(None, help="key=value overrides."),
    patches: int = typer.Option(32, "--patches", min=1, help="Patches to time in each pass."),
    split_path: Path | None = typer.Option(
        None, "--split", help="Reuse this split.json instead of making one."
    ),
) -> None:
    """Time the training data pipeline of CONFIG (patches/s, foreground share, shapes)."""
    import torch

    from volseg.config import load

    cfg = load(config, overrides or [])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # like a DataLoader worker
    try:
        _profile(cfg, patches, split_path)
    finally:
        torch.set_num_threads(threads)


def _profile(cfg: Any, patches: int, split_path: Path | None) -> None:
    from volseg.data.dataset import PatchDataset
    from volseg.data.split import make_split

    split = make_split(cfg, reuse=split_path)
    seed = cfg.system.seed if cfg.system.seed is not None else 0
    ds = PatchDataset(cfg, split, train=True, seed=seed)
    from volseg.channels import per_channel_names

    names = per_channel_names(cfg.data.label_transform.targets)
    n = min(patches, len(ds))
    first = ds[0]
    augs = sorted({name for aug in ds.augment.values() for name in aug.names})
    print(f"patch: image {tuple(first['image'].shape)}, targets {tuple(first['targets'].shape)}")
    print(f"targets: {', '.join(dict.fromkeys(names))}")
    print(f"augmentation: {', '.join(augs) or 'none'}")
    print(f"split: {len(split.train)} training and {len(split.val)} validation region(s)")
    rate, hits = _time_single(ds, n, names)
    print(f"single process: {rate:.2f} patches/s ({n} patches)")
    workers = int(cfg.system.training.num_workers)
    if workers > 0:
        rate_w = _time_workers(ds, cfg, n)
        batch = int(cfg.system.training.batch_size)
        print(f"{workers} worker(s), batch {batch}: {rate_w:.2f} patches/s ({n} patches)")
    share = "unknown (no binary / instance_edt / semantic_edt target)"
    if hits is not None:
        share = f"{hits}/{n} patches ({100 * hits / n:.0f} %)"
    fg_prob = cfg.data.foreground_probability
    print(f"foreground: {share}; data.foreground_probability = {fg_prob}")


def register(app: typer.Typer) -> None:
    """Add ``volseg profile-data``."""
    app.command("profile-data")(profile_data)
