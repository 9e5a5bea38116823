"""Benchmark: self-training from 10 % of the labelled slices vs supervised on the same 10 %.

Data: the Lucchi++ 5 nm crop (``../shared/data/lucchi_pp_crops/train_crop.h5``, 165 slices).
- Labelled volume: slices 0-13 (10 % of the 131 slices before the validation range) followed
  by slices 131-164, the fixed validation range (``data.val_region: [14, 48]`` of that file).
  The tutorial's network is 2D, so stacking the two ranges adds no false context; the one
  10 nm slice at the seam mixes slice 13 and 131 and is inside the half-patch gap.
- Unlabelled volume: slices 14-129 (images only), never the validation range.

``volseg selftrain`` runs the tutorial (``tutorials/lucchi-mito.yaml``) with
``--steps`` optimizer steps per stage: the supervised run, ``--iterations`` pseudo-label
rounds (thresholds 0.95/0.05 -> 0.91/0.09) and a supervised-only baseline trained for the
same total steps. Every stage is scored against the original ground truth on the fixed
validation range. The summary (``summary.md``/``.csv``/``.png``) is copied to
``benchmarks/results/selftrain_lucchi/``.

``--thresholds class_balanced`` runs the same with class-balanced thresholds
(``selftrain.thresholds``; proportions 0.2 -> 0.5) into ``selftrain_lucchi_class_balanced/``.

    python benchmarks/selftrain_lucchi.py [--steps 320] [--iterations 3] [--thresholds fixed]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CROP = REPO.parent / "shared" / "data" / "lucchi_pp_crops" / "train_crop.h5"
OUT = REPO / "benchmarks" / "results" / "selftrain_lucchi"
LABELLED = (0, 14)
VAL = (131, 165)
UNLABELLED = (14, 130)


def make_data(folder: Path) -> tuple[Path, Path]:
    """The labelled and unlabelled volumes (OME-Zarr at 5 nm) in ``folder``."""
    sys.path.insert(0, str(REPO))
    from volseg.io import write_volume

    with h5py.File(CROP, "r") as f:
        raw, inst = f["raw"], f["instances"]
        pieces = [slice(*LABELLED), slice(*VAL)]
        lab_raw = np.concatenate([raw[s] for s in pieces])
        lab_gt = np.concatenate([inst[s] for s in pieces])
        unl_raw = raw[slice(*UNLABELLED)]
    labelled, unlabelled = folder / "labelled.zarr", folder / "unlabelled.zarr"
    write_volume(labelled, lab_raw, voxel_size=(5, 5, 5), kind="image")
    write_volume(labelled, lab_gt, voxel_size=(5, 5, 5), kind="labels", key="labels/gt")
    write_volume(unlabelled, unl_raw, voxel_size=(5, 5, 5), kind="image")
    return labelled, unlabelled


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=320, help="optimizer steps per stage")
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--thresholds", default="fixed", choices=("fixed", "class_balanced"))
    args = p.parse_args(argv)
    out_dir = OUT if args.thresholds == "fixed" else OUT.with_name(f"{OUT.name}_{args.thresholds}")
    if not CROP.is_file():
        sys.exit(f"{CROP} is not there.")
    with tempfile.TemporaryDirectory(prefix="volseg-selftrain-") as name:
        home = Path(name)
        labelled, unlabelled = make_data(home)
        n = LABELLED[1] - LABELLED[0]
        overrides = [
            f"data.train_image=[{labelled}]", f"data.train_label=[{labelled}/labels/gt]",
            f"data.val_region=[{n},{n + VAL[1] - VAL[0]}]",
            f"selftrain.iterations={args.iterations}", f"selftrain.steps={args.steps}",
            f"selftrain.thresholds={args.thresholds}",
            "monitor.full_val_every_n_epochs=5", "monitor.early_stopping.enabled=false",
            "test.decoding=[{name: cc, kwargs: {threshold: 0.5, connectivity: 26, "
            "min_instance_size: 1000}}]",  # 5 nm voxels
            "test.evaluation.min_instance_size=1000",
        ]  # fmt: skip
        out = home / "selftrain"
        cmd = [sys.executable, "-m", "volseg", "selftrain", str(REPO / "tutorials" /
               "lucchi-mito.yaml"), *overrides, "--unlabelled", str(unlabelled), "--out",
               str(out), "--no-progress"]  # fmt: skip
        rc = subprocess.run(cmd, cwd=REPO).returncode
        if rc:
            return rc
        out_dir.mkdir(parents=True, exist_ok=True)
        for f in sorted(out.glob("summary.*")):
            shutil.copyfile(f, out_dir / f.name)
        for f in sorted(out.glob("iter-*/figure.png")):
            shutil.copyfile(f, out_dir / f"{f.parent.name}-figure.png")
        print((out_dir / "summary.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
