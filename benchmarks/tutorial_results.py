"""Benchmark: what the tutorials reach on this machine in a stated CPU budget.

``hydra-lv`` then ``hydra-lv-finetune`` run as the tutorials README types them, from a fresh
folder holding the ``tutorials/`` configs: ``volseg synth vesicles data/vesicles.zarr``,
``volseg fit tutorials/hydra-lv.yaml``, ``volseg synth vesicles data/vesicles-b.zarr --seed 1
--density 0.03``, ``volseg fit tutorials/hydra-lv-finetune.yaml`` (which starts from
``runs/hydra-lv/latest``). ``neuroproof-neurons`` runs on the shared NeuroProof volume. A
control trains the fine-tuning config from random weights in the same budget.

The tutorials are written for a GPU (400 epochs of 256 patches of 32 x 128 x 128); on a 2-core
CPU the hydra runs get a CPU sizing, the same for all three: patches of 16 x 64 x 64 (batch 4,
64 patches per epoch), a narrower network (``--filters``) and a budget in epochs (``--pre`` /
``--fine``, the cosine schedule ending at min_lr), so the result does not depend on how busy
the machine is; the minutes it took are measured and reported. The whole held-out region is
predicted (the tutorial's sliding window and TTA), decoded with the tutorial's
``test.decoding`` and scored (``val/*``) every 5 epochs and at the end; ``best.pt`` follows
val_loss as the tutorial says. Reported per run, from the last whole-region validation:
adapted Rand error (gt background ignored), its precision and recall, instance F1 at IoU 0.5,
the instance counts, steps and minutes. The fine-tuned model's region is the last 20 % of z of
``vesicles-b``, which pre-training never saw. Bar: fine-tuned ARE < 0.05. ``neuroproof-neurons``
trains to a wall-clock budget (``--neurons`` minutes) at the tutorial's own sizing.

    python benchmarks/tutorial_results.py [--pre 25] [--fine 15] [--neurons 15] [--json F]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parser

REPO = Path(__file__).resolve().parents[1]
VOLSEG = [sys.executable, "-m", "volseg"]
BAR = 0.05
KEYS = ("val/are", "val/precision", "val/recall", "val/f1_50", "val/instances", "val/gt_instances")


def cpu(epochs: int, filters: str, every: int) -> list[str]:
    """The CPU sizing of the hydra runs (see the module docstring)."""
    return [f"optimization.max_epochs={epochs}", "optimization.scheduler.warmup_epochs=2",
            f"model.filters={filters}", "model.input_size=[16,64,64]",
            "data.iter_num_per_epoch=64", "system.training.batch_size=4",
            f"monitor.full_val_every_n_epochs={every}", "monitor.val_every_n_epochs=1",
            f"monitor.logging.figures_every_n_epochs={every}",
            "monitor.early_stopping.enabled=false"]  # fmt: skip


def run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - start


def scores(run_dir: Path) -> dict:
    from volseg.train.logger import read_csv

    rows = read_csv(run_dir / "metrics.csv")
    full = [r for r in rows if "val/are" in r]
    if not full:
        return {"run_dir": str(run_dir), "validated": False}
    last = full[-1]
    steps = max(int(r["step"]) for r in rows if "step" in r)
    return {"run_dir": str(run_dir), "validated": True, "epoch": int(last["epoch"]),
            "steps": steps, **{k.split("/")[1]: float(last[k]) for k in KEYS if k in last},
            "best_are": min(float(r["val/are"]) for r in full)}  # fmt: skip


def fit(home: Path, label: str, args: list[str], experiment: str) -> dict:
    """``volseg fit ARGS`` in ``home``; the scores of the newest run of ``experiment``."""
    from volseg.train.run_dir import run_dirs

    seconds = run([*VOLSEG, "fit", *args, "--no-progress"], home)
    last = run_dirs(home / "runs" / experiment)[-1]
    return {"config": label, "wall_min": seconds / 60, **scores(last)}


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--pre", type=int, default=25, help="hydra-lv epochs (64 patches each)")
    p.add_argument("--fine", type=int, default=15, help="hydra-lv-finetune epochs")
    p.add_argument("--neurons", type=float, default=15.0, help="neuroproof-neurons minutes")
    p.add_argument("--filters", default="[8,16,32,64,128]", help="hydra-lv widths on the CPU")
    p.add_argument("--skip", nargs="*", default=[], choices=["hydra", "control", "neurons"])
    args = p.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="volseg-tutorials-") as name:
        home = Path(name)
        shutil.copytree(REPO / "tutorials", home / "tutorials")
        run([*VOLSEG, "synth", "vesicles", "data/vesicles.zarr"], home)
        run([*VOLSEG, "synth", "vesicles", "data/vesicles-b.zarr", "--seed", "1",
             "--density", "0.03"], home)  # fmt: skip
        plan = []
        if "hydra" not in args.skip:
            plan += [
                (
                    "hydra-lv",
                    ["tutorials/hydra-lv.yaml", *cpu(args.pre, args.filters, 5)],
                    "hydra-lv",
                ),
                (
                    "hydra-lv-finetune",
                    ["tutorials/hydra-lv-finetune.yaml", *cpu(args.fine, args.filters, 5)],
                    "hydra-lv-finetune",
                ),
            ]
        if "control" not in args.skip:
            plan.append(
                (
                    "hydra-lv-finetune from random weights",
                    [
                        "tutorials/hydra-lv-finetune.yaml",
                        *cpu(args.fine, args.filters, 5),
                        "model.external_weights_path=null",
                        "experiment_name=hydra-lv-scratch",
                    ],
                    "hydra-lv-scratch",
                )
            )
        if "neurons" not in args.skip:  # the shared data, named relative to the repository's copy
            neurons = [
                f"optimization.max_time={args.neurons * 60:.0f}",
                "data.iter_num_per_epoch=16",
                "monitor.full_val_every_n_epochs=5",
                "monitor.val_every_n_epochs=1",
                "monitor.logging.figures_every_n_epochs=5",
                "monitor.early_stopping.enabled=false",
            ]
            plan.append(
                (
                    "neuroproof-neurons",
                    [
                        str(REPO / "tutorials" / "neuroproof-neurons.yaml"),
                        *neurons,
                        "--runs",
                        str(home / "runs"),
                    ],
                    "neuroproof-neurons",
                )
            )
        for label, cmd, experiment in plan:
            results.append(fit(home, label, cmd, experiment))
            print(results[-1], flush=True)
    print()
    print(
        "| run | budget | wall (min) | steps | ARE | precision | recall | F1@0.5 | "
        "instances (pred / gt) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    budgets = {"hydra-lv": f"{args.pre} epochs", "hydra-lv-finetune": f"{args.fine} epochs",
               "neuroproof-neurons": f"{args.neurons:g} min",
               "hydra-lv-finetune from random weights": f"{args.fine} epochs"}  # fmt: skip
    for r in results:
        if not r.get("validated"):
            print(
                f"| {r['config']} | {budgets[r['config']]} | {r['wall_min']:.1f} | "
                "no whole-region validation ran |"
            )
            continue
        print(f"| {r['config']} | {budgets[r['config']]} | {r['wall_min']:.1f} | {r['steps']} | "
              f"{r['are']:.4f} | {r['precision']:.4f} | {r['recall']:.4f} | "
              f"{r.get('f1_50', float('nan')):.4f} | {r.get('instances', 0):.0f} / "
              f"{r.get('gt_instances', 0):.0f} |")  # fmt: skip
    fine = next((r for r in results if r["config"] == "hydra-lv-finetune"), {})
    met = bool(fine.get("validated")) and fine["are"] < BAR
    print(
        f"\nfine-tuned ARE on vesicles-b (held out): {fine.get('are')} (bar < {BAR}: "
        f"{'met' if met else 'NOT met'})"
    )
    if args.json is not None:
        args.json.write_text(json.dumps({"filters": args.filters, "results": results}, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
