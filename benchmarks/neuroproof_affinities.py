"""Benchmark: dense neurons by affinities + agglomeration against the boundary route (issue 18).

``tutorials/neuroproof-affinities.yaml`` (9 affinities, waterz agglomeration) and
``tutorials/neuroproof-neurons.yaml`` (foreground + boundary, seeded watershed) train the same
RSUNet on the same NeuroProof split for the same wall-clock minutes. The two runs train **at
the same time**, one CPU thread each (``system.training.num_cpus=1``, no loader workers), so
whatever else the 2-core machine does slows both alike; the budget is ``optimization.max_time``.
Full validation is off during training; the last checkpoint of each run then predicts the
held-out region (z 200-250, the tutorials' ``val_region``), one after the other, and every
applicable decoder decodes it at the tutorial's settings (nothing is tuned on the held-out
region). Scores follow ``test.evaluation`` of the tutorials: instances under 1000 voxels
dropped, ground-truth background left out: ARE, VOI split and merge (bits), instance counts.

    python benchmarks/neuroproof_affinities.py [--minutes 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data" / "neuroproof_training_sample2" / "volume.h5"
OUT = REPO / "benchmarks" / "results" / "neuroproof_affinities.json"
HELD_OUT = slice(200, 250)
VOLSEG = [sys.executable, "-m", "volseg"]
ROUTES = {
    "neuroproof-neurons": ["contour_distance"],
    "neuroproof-affinities": ["agglomerate", "affinity_cc", "mutex_watershed"],
}
#: Settings for the decoders that are not the tutorial's own first decoder.
EXTRA = {
    "affinity_cc": {"threshold": 0.5, "min_instance_size": 100},
    "mutex_watershed": {"bias": 0.5, "long_range_bias": 0.5, "strides": [1, 2, 2],
                        "min_instance_size": 100},
}  # fmt: skip


def _fit_args(config: str, minutes: float, runs: Path) -> list[str]:
    return [*VOLSEG, "fit", str(REPO / "tutorials" / f"{config}.yaml"),
            f"optimization.max_time={minutes * 60:.0f}", "system.training.num_cpus=1",
            "system.training.num_workers=0", "data.iter_num_per_epoch=16",
            "monitor.full_val_every_n_epochs=0", "monitor.val_every_n_epochs=1",
            "monitor.logging.figures_every_n_epochs=0", "monitor.early_stopping.enabled=false",
            "--runs", str(runs), "--no-progress"]  # fmt: skip


def _train_both(minutes: float, home: Path) -> dict[str, dict]:
    """Start both runs together; wait for both."""
    procs = {}
    for config in ROUTES:
        log = open(home / f"{config}.log", "w")  # noqa: SIM115 (closed below)
        cmd = _fit_args(config, minutes, home / "runs")
        proc = subprocess.Popen(cmd, cwd=home, stdout=log, stderr=subprocess.STDOUT)
        procs[config] = (proc, log, time.time())
    out = {}
    for config, (proc, log, start) in procs.items():
        rc = proc.wait()
        log.close()
        if rc:
            sys.exit(f"{config} failed:\n{(home / f'{config}.log').read_text()[-3000:]}")
        out[config] = {"wall_min": (time.time() - start) / 60}
    return out


def _steps(run_dir: Path) -> int:
    from volseg.train.logger import read_csv

    rows = read_csv(run_dir / "metrics.csv")
    return max(int(r["step"]) for r in rows if "step" in r)


def _crop(home: Path) -> tuple[str, np.ndarray]:
    with h5py.File(DATA, "r") as f:
        raw, labels = f["raw"][HELD_OUT], f["labels"][HELD_OUT]
    path = home / "held_out.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("raw", data=raw).attrs["resolution_nm_zyx"] = [10, 10, 10]
    return f"{path}:raw", labels


def _score(seg: np.ndarray, gt: np.ndarray, min_size: int) -> dict:
    from volseg.decode.postprocess import remove_small
    from volseg.metrics import contingency
    from volseg.metrics.objectives import all_scores

    gt_inst = remove_small(gt, min_size=min_size)
    s = all_scores(contingency(seg, gt_inst), min_size=min_size)
    return {"are": s["are_ignore_bg"], "precision": s["precision"], "recall": s["recall"],
            "voi_split": s["voi_split"], "voi_merge": s["voi_merge"],
            "instances": int(s["n_instances"]), "gt_instances": int(s["n_gt"])}  # fmt: skip


def _evaluate(config: str, run_dir: Path, image: str, gt: np.ndarray, home: Path) -> list[dict]:
    from volseg.config import load
    from volseg.decode import decode
    from volseg.decode.files import load_maps
    from volseg.tune.settings import resolve

    maps_path = str(home / f"{config}-maps.zarr")
    start = time.time()
    subprocess.run([*VOLSEG, "predict", str(REPO / "tutorials" / f"{config}.yaml"),
                    "--checkpoint", str(run_dir / "checkpoints" / "last.pt"), "--image", image,
                    "--out", maps_path], check=True, cwd=home, capture_output=True)  # fmt: skip
    predict_s = time.time() - start
    maps, _ = load_maps(maps_path)
    cfg = load(REPO / "tutorials" / f"{config}.yaml")
    min_size = int(cfg.test.evaluation.min_instance_size)
    rows = []
    for decoder in ROUTES[config]:
        explicit = EXTRA.get(decoder) if decoder != cfg.test.decoding[0].name else None
        chosen = resolve(cfg=None if explicit else cfg, explicit=explicit, decoder=decoder,
                         use_thresholds=False, maps_path=maps_path, n_channels=maps.shape[0],
                         what=maps_path)  # fmt: skip
        start = time.time()
        seg = decode(maps, chosen.name, chosen.params)
        rows.append({"config": config, "decoder": decoder, "predict_s": predict_s,
                     "decode_s": time.time() - start,
                     "params": {k: v for k, v in chosen.params.items() if k != "offsets"},
                     **_score(seg, gt, min_size)})  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=20.0, help="training minutes per route")
    args = p.parse_args(argv)
    from volseg.train.run_dir import run_dirs

    with tempfile.TemporaryDirectory(prefix="volseg-neuroproof-") as name:
        home = Path(name)
        trained = _train_both(args.minutes, home)
        image, gt = _crop(home)
        rows = []
        for config in ROUTES:
            run_dir = run_dirs(home / "runs" / config)[-1]
            trained[config]["steps"] = _steps(run_dir)
            rows += [{**r, **trained[config]} for r in _evaluate(config, run_dir, image, gt, home)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"minutes": args.minutes, "held_out_z": [200, 250],
                               "rows": rows}, indent=2) + "\n")  # fmt: skip
    print(f"\n{args.minutes:g} training minutes per route, both at once on one thread each\n")
    print("| route | decoder | steps | ARE | VOI split | VOI merge | instances (gt) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['config']} | {r['decoder']} | {r['steps']} | {r['are']:.3f} | "
              f"{r['voi_split']:.3f} | {r['voi_merge']:.3f} | {r['instances']} "
              f"({r['gt_instances']}) |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
