"""Benchmark: training step rate vs data-loader rate, and Lucchi++ mitochondria quality per minute.

Speed (default): at the tutorial's patch size and batch size (``--config``, default
``tutorials/lucchi-mito.yaml``), time the training data loader alone (its own workers,
``system.training.num_workers``) and the training step alone (forward, loss, backward, optimizer
step on one fixed batch, ``system.training.num_cpus`` threads), each after a warm-up. Bar
(DESIGN.md): the loader delivers batches at least 2x as fast as the step consumes them; the
agreement check is that loader batches have the shapes the network takes.

Quality (``--quality``): train ``tutorials/lucchi-mito.yaml`` to a budget of ``--minutes`` of
wall time on this machine (``optimization.max_time``: the whole fit, validation included). The
step rate measured first plans the run: ``max_steps`` = what fits in the budget, split into
``--evals`` epochs, each followed by a whole-slab validation of the held-out z-range (slices
132-164: sliding window, decode, score); the schedule also follows the clock, so it reaches
min_lr within the budget even if the steps slow down (then fewer epochs and validations run).
Reports foreground IoU and adapted Rand error after decoding against training minutes, as a
table (CSV) and a curve (PNG). Bar (DESIGN.md): foreground IoU >= 0.88.

    python benchmarks/train.py [--config CFG] [--batches 20] [--steps 10] [--json out.json]
    python benchmarks/train.py --quality [--minutes 15] [--evals 10] [--out runs/bench-train]
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
from _common import Row, parser, print_table, write_json

from volseg.train.budget import build_parts, measure_step_seconds, steps_in_budget, time_steps

REPO = Path(__file__).resolve().parents[1]
LUCCHI = REPO / "tutorials" / "lucchi-mito.yaml"
LOADER_BAR = 2.0
IOU_BAR = 0.88


def time_loader(loader: Any, batches: int) -> tuple[float, dict[str, Any]]:
    """Seconds per batch over ``batches`` batches after the first (workers start) one."""
    it = iter(loader)
    first = next(it)
    start, n = time.perf_counter(), 0
    for _ in range(batches):
        try:
            next(it)
        except StopIteration:
            break
        n += 1
    return (time.perf_counter() - start) / max(1, n), first


def speed(config: Path, overrides: list[str], batches: int, steps: int) -> Row:
    """The loader-vs-step row."""
    from volseg.config import load

    cfg = load(config, overrides)
    parts = build_parts(cfg)
    parts.data.train_set.set_epoch(0)
    loader_s, batch = time_loader(parts.data.train_loader, batches)
    threads = torch.get_num_threads()
    torch.set_num_threads(int(cfg.system.training.num_cpus))
    try:
        step_s = time_steps(parts.trainable, parts.optimizer, batch, steps)
    finally:
        torch.set_num_threads(threads)
    b = int(cfg.system.training.batch_size)
    want = (b, int(cfg.model.in_channels), *cfg.model.input_size)
    shape = tuple(batch["image"].shape)
    ok = shape == want and batch["targets"].shape[2:] == batch["image"].shape[2:]
    return Row(
        name=f"loader vs step, {config.stem}, batch {b} x {list(cfg.model.input_size)}",
        volseg_s=loader_s, reference_s=step_s, reference="training step", peak_mb=0.0,
        agree="batch shapes fit the network" if ok else f"batch {shape}",
        bar=LOADER_BAR, passed=ok,
        details={"loader_patches_per_s": b / loader_s, "step_patches_per_s": b / step_s,
                 "workers": int(cfg.system.training.num_workers),
                 "threads": int(cfg.system.training.num_cpus)},
    )  # fmt: skip


def quality(minutes: float, evals: int, out: Path, overrides: list[str]) -> dict[str, Any]:
    """Train lucchi-mito for ``minutes``; return the table rows and the summary."""
    from volseg.config import load
    from volseg.train import fit
    from volseg.train.logger import read_csv

    cfg = load(LUCCHI, overrides)
    step_s = measure_step_seconds(cfg)  # fit sets its own thread count
    steps = max(evals, steps_in_budget(step_s, minutes))
    per_epoch = math.ceil(steps / evals)
    batch_size = int(cfg.system.training.batch_size)
    plan = [
        f"optimization.max_epochs={evals}",
        f"optimization.max_steps={steps}",
        f"data.iter_num_per_epoch={per_epoch * batch_size}",
        f"optimization.scheduler.warmup_epochs={max(1, round(0.05 * evals))}" if evals > 1 else
        "optimization.scheduler.name=cosine",
        "monitor.val_every_n_epochs=1",
        "monitor.full_val_every_n_epochs=1",
        f"monitor.logging.figures_every_n_epochs={evals}",
        f"optimization.max_time={minutes * 60}",
    ]  # fmt: skip
    cfg = load(LUCCHI, [*plan, *overrides])
    start = time.perf_counter()
    run_dir = fit(cfg, run_root=out / "runs", progress=None)
    wall = time.perf_counter() - start
    rows, trained = [], 0.0
    for r in read_csv(run_dir / "metrics.csv"):
        if "train/epoch_seconds" not in r:
            continue
        trained += r["train/epoch_seconds"]
        if "val/map_fg_iou" in r:
            rows.append({"epoch": int(r["epoch"]), "step": int(r["step"]),
                         "train_minutes": trained / 60, "fg_iou": r["val/map_fg_iou"],
                         "are": r.get("val/are", float("nan")),
                         "patch_loss": r.get("val/patch_loss", float("nan"))})  # fmt: skip
    return {"run_dir": str(run_dir), "rows": rows, "step_s": step_s, "planned_steps": steps,
            "wall_minutes": wall / 60}  # fmt: skip


def report_quality(result: dict[str, Any], out: Path, minutes: float) -> None:
    """Print the table, write CSV and the IoU-vs-minutes PNG."""
    import csv

    from rich.console import Console
    from rich.table import Table

    from volseg.train.figures import _figure, _save

    rows = result["rows"]
    out.mkdir(parents=True, exist_ok=True)
    with (out / "lucchi_quality.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["epoch"])
        writer.writeheader()
        writer.writerows(rows)
    table = Table(title=f"lucchi-mito, {minutes:g} min wall-time budget ({result['run_dir']})")
    for col in ("epoch", "step", "train min", "fg IoU", "ARE", "patch loss"):
        table.add_column(col, justify="right")
    for r in rows:
        cells = [f"{r['train_minutes']:.2f}", f"{r['fg_iou']:.4f}", f"{r['are']:.4f}"]
        table.add_row(str(r["epoch"]), str(r["step"]), *cells, f"{r['patch_loss']:.4f}")
    Console(width=120).print(table)
    if not rows:
        print("no validation row was logged")
        return
    final, best = rows[-1], max(rows, key=lambda r: r["fg_iou"])
    verdict = "met" if final["fg_iou"] >= IOU_BAR else "NOT met"
    print(f"final foreground IoU {final['fg_iou']:.4f} (bar >= {IOU_BAR}: {verdict}), ARE "
          f"{final['are']:.4f} after {final['train_minutes']:.2f} training minutes "
          f"({result['wall_minutes']:.2f} min wall clock with validation); best IoU "
          f"{best['fg_iou']:.4f} at {best['train_minutes']:.2f} min")  # fmt: skip
    fig = _figure(6.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([r["train_minutes"] for r in rows], [r["fg_iou"] for r in rows], "o-", label="fg IoU")
    ax.plot([r["train_minutes"] for r in rows], [r["are"] for r in rows], "s--", label="ARE")
    ax.axhline(IOU_BAR, color="0.6", lw=0.8, ls=":", label=f"IoU bar {IOU_BAR}")
    ax.set_xlabel("training minutes")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("Lucchi++ held-out slices 132-164")
    _save(fig, out / "lucchi_iou_vs_minutes.png")
    print(f"wrote {out / 'lucchi_quality.csv'} and {out / 'lucchi_iou_vs_minutes.png'}")


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, default=LUCCHI, help="tutorial config (speed mode)")
    p.add_argument("--batches", type=int, default=20, help="loader batches timed")
    p.add_argument("--steps", type=int, default=10, help="training steps timed")
    p.add_argument("--quality", action="store_true", help="train lucchi-mito against the clock")
    p.add_argument("--minutes", type=float, default=15.0, help="wall-time budget (quality)")
    p.add_argument("--evals", type=int, default=None, help="validations (default ~1/minute, <=10)")
    p.add_argument("--out", type=Path, default=REPO / "runs" / "bench-train", help="outputs")
    p.add_argument("overrides", nargs="*", help="config overrides dotted.key=value")
    args = p.parse_args(argv)
    if args.quality:
        evals = args.evals or min(10, max(2, round(args.minutes)))
        result = quality(args.minutes, evals, args.out, args.overrides)
        report_quality(result, args.out, args.minutes)
        if args.json:
            args.json.write_text(__import__("json").dumps(result, indent=2) + "\n")
        return 0
    row = speed(args.config, args.overrides, args.batches, args.steps)
    print_table("training data loader vs training step (seconds per batch)", [row])
    d = row.details
    print(f"loader {d['loader_patches_per_s']:.1f} patches/s ({d['workers']} worker(s)); step "
          f"{d['step_patches_per_s']:.1f} patches/s ({d['threads']} thread(s))")  # fmt: skip
    if args.json:
        write_json(args.json, "train", [row], {})
    return 0 if row.passed else 1


if __name__ == "__main__":
    sys.exit(main())
