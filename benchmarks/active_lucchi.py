"""Benchmark: four rounds of simulated active learning for every strategy (issue 17).

``volseg active tutorials/lucchi-mito.yaml --simulate`` on the whole Lucchi++ training volume
at 10 nm (the tutorial's data; its held-out box validates every round). The volume is cut into
16 x 128 x 128 regions outside the box; every strategy starts from the same seeded 10 % of them,
queries 10 % more per round for 4 rounds, and retrains from scratch for ``--steps`` optimizer
steps each round (the labels act as the annotator through ``data.train_mask``). To fit the
CPU budget, rounds predict without test-time augmentation (the ``tta`` strategy then uses the
identity and one flip per axis) and keep the checkpoint of the lowest patch loss. Diversity and
hybrid pool the features of one encoder stage (``--feature-layer``). The learning curves
(foreground IoU and instance F1@0.5 on the held-out box against the labelled fraction) go to
``benchmarks/results/active_lucchi/``.

    python benchmarks/active_lucchi.py [--steps 100] [--rounds 4]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "active_lucchi"
STRATEGIES = "random,least_confidence,entropy,margin,tta,diversity,hybrid"
#: The last encoder stage before the bottom of the tutorial's monai_unet (64 channels).
LAYER = "net.model.1.submodule.1.submodule.0"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--rounds", type=int, default=4)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="volseg-active-") as name:
        out = Path(name) / "sim"
        cmd = [sys.executable, "-m", "volseg", "active", str(REPO / "tutorials" /
               "lucchi-mito.yaml"), "monitor.full_val_every_n_epochs=0",
               "monitor.checkpoint.monitor=val_loss", "monitor.checkpoint.mode=min",
               "inference.test_time_augmentation.enabled=false", "--simulate",
               "--strategies", STRATEGIES, "--rounds", str(args.rounds), "--start", "0.1",
               "--query", "0.1", "--steps", str(args.steps), "--region", "16,128,128",
               "--feature-layer", LAYER, "--out", str(out)]  # fmt: skip
        rc = subprocess.run(cmd, cwd=REPO).returncode
        if rc:
            return rc
        OUT.mkdir(parents=True, exist_ok=True)
        for f in sorted(out.glob("curve.*")):
            shutil.copyfile(f, OUT / f.name)
        print((OUT / "curve.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
