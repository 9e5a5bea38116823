"""Benchmark: U-Net vs Attention U-Net vs Attention ResU-Net on one split (issue 17).

The Lucchi++ tutorial on the 5 nm crop (``benchmarks/compare/*.yaml``: only
``model.architecture`` differs), trained by ``volseg compare`` on one ``split.json`` with the
same seed and the same number of optimizer steps (``--steps``, default 480 = 15 epochs of 32),
on this 2-core CPU. The table (parameters, time per epoch, best and final whole-region
validation scores) and the curves (trailing moving average, raw values faint behind) go to
``benchmarks/results/compare_architectures/``. Times per epoch are wall-clock on a shared
machine: compare them within one run only.

    python benchmarks/compare_architectures.py [--steps 480]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIGS = [REPO / "benchmarks" / "compare" / f"{a}.yaml"
           for a in ("monai_unet", "attention_unet", "attention_resunet")]  # fmt: skip
OUT = REPO / "benchmarks" / "results" / "compare_architectures"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=480)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="volseg-compare-") as runs:
        cmd = [sys.executable, "-m", "volseg", "compare", *map(str, CONFIGS), "--out", str(OUT),
               "--steps", str(args.steps), "--seed", str(args.seed), "--runs", runs,
               "--overwrite", "--no-progress"]  # fmt: skip
        return subprocess.run(cmd, cwd=REPO).returncode


if __name__ == "__main__":
    raise SystemExit(main())
