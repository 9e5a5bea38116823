"""Benchmark: ``volseg segment --cluster local:2`` as the volume grows; a killed-and-rerun run.

Image: ``volseg synth vesicles --tile`` (30 x 8 x 8 nm), generated tile by tile, so no process
holds the volume. Sizes: 1x, 4x (2 x 2 in y, x) and 8x (2 x 2 x 2) a unit volume; with
``--unit 256,512,512`` the 8x volume is the 512 x 1024 x 1024 of issue 13. Model: a tiny
random-weight RSUNet (filters 4, 8; the checkpoint is built here, as the tests'
``tiny_checkpoint`` does: prediction cost, not quality, is what this measures), no TTA,
decoder ``contour_distance`` in watershed mode (the seeded route) with thresholds set to the
random network's maps (binary (0.38, 0.33), contour 0.62, distance 0.45, min_seed_size 8:
about 650 instances per 10^6 voxels, 69% foreground, a dense case), blocks of ``--block``.

Each run is the command line in a child process group; every 0.2 s the resident set of that
process (client and scheduler) and of each of its descendants (nannies, the two workers) is
sampled with psutil. Reported per size: the largest worker peak (MB), the main process peak,
wall time and the throughput. The bar: a flat worker peak (8x within 1.25x of 1x).

Kill and rerun (at ``--kill-size``): the same command gets SIGKILL on its whole process group
(scheduler and workers) once half of the prediction blocks are done, then runs again. Check:
labels identical, element for element, to the uninterrupted run; the maps chunks of the
blocks finished before the kill keep their modification time (not recomputed); the rerun's
decode record (``blockwise_result``) says which decode blocks it ran.

    python benchmarks/segment_scale.py [--json results.json] [--unit 64,256,256] [--sizes 1 4 8]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import parser

VOXEL = "30,8,8"
LAYOUT = {1: (1, 1, 1), 4: (1, 2, 2), 8: (2, 2, 2)}
TILE = (64, 256, 256)  # synth tile (at most; it divides the unit)
CONFIG = """
model:
  architecture: rsunet
  filters: [4, 8]
  input_size: [16, 64, 64]
  norm: group
inference:
  sliding_window: {overlap: 0.25, sw_batch_size: 4}
  block_shape: [BLOCK]
system:
  inference: {num_gpus: 0}
test:
  decoding:
    - name: contour_distance
      kwargs: {binary_threshold: [0.38, 0.33], contour_threshold: [0.62, null],
               distance_threshold: [0.45, null], min_seed_size: 8}
"""
VOLSEG = [sys.executable, "-m", "volseg"]


def make_model(root: Path, block: tuple[int, ...]) -> tuple[Path, Path]:
    """The tiny config and a checkpoint of its network with random weights."""
    import torch

    from volseg.checkpoint import save_checkpoint
    from volseg.config import load
    from volseg.models import build

    config = root / "tiny.yaml"
    config.write_text(CONFIG.replace("BLOCK", ", ".join(map(str, block))))
    cfg = load(config)
    torch.manual_seed(0)
    model = build(cfg.model)
    checkpoint = root / "tiny.pt"
    save_checkpoint(checkpoint, model=model, model_cfg=cfg.model, config=cfg, epoch=0, step=0)
    return config, checkpoint


def make_image(path: Path, shape: tuple[int, ...]) -> None:
    tile = ",".join(str(min(s, t)) for s, t in zip(shape, TILE, strict=True))
    dims = ",".join(map(str, shape))
    cmd = [*VOLSEG, "synth", "vesicles", str(path), "--shape", dims, "--voxel-size", VOXEL,
           "--tile", tile]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)


def segment(config, checkpoint, image, out, *, stop=None) -> dict:
    """Run the command; sample RSS of its processes; ``stop()`` True kills its group."""
    import psutil

    cmd = [*VOLSEG, "segment", str(config), "--checkpoint", str(checkpoint), "--image",
           str(image), "--out", str(out), "--cluster", "local:2"]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    main = psutil.Process(proc.pid)
    peaks: dict[int, float] = {}
    killed = False
    while proc.poll() is None:
        try:
            procs = [main, *main.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        for p in procs:
            try:
                peaks[p.pid] = max(peaks.get(p.pid, 0.0), p.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                pass
        if stop is not None and stop():
            os.killpg(proc.pid, signal.SIGKILL)  # scheduler, client and workers at once
            killed = True
            break
        time.sleep(0.2)
    output, _ = proc.communicate()
    if proc.returncode and not killed:
        sys.exit(f"segment failed ({proc.returncode}):\n{output}")
    others = [mb for pid, mb in peaks.items() if pid != proc.pid]
    return {"wall_s": time.perf_counter() - start, "main_mb": peaks.get(proc.pid, 0.0),
            "worker_mb": max(others, default=0.0), "killed": killed, "log": output}  # fmt: skip


def done_blocks(out: Path) -> np.ndarray:
    import zarr

    path = out / "maps" / "volseg_done"
    if not path.is_dir():
        return np.zeros(0, dtype=bool)
    return np.asarray(zarr.open_array(str(path), mode="r")[...]).ravel() > 0


def chunk_times(out: Path) -> dict[str, int]:
    root = out / "maps" / "s0" / "c"
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def same_labels(a: Path, b: Path) -> dict:
    """Element-for-element comparison of two label volumes, chunk by chunk (never whole)."""
    from volseg.io import open_volume

    x = open_volume(f"{a}:labels/segmentation")
    y = open_volume(f"{b}:labels/segmentation")
    if x.shape != y.shape:
        return {"identical": False, "instances": None}
    step = 32
    same, top = True, 0
    for z in range(0, x.shape[0], step):
        u = x[z : z + step]
        v = y[z : z + step]
        same = same and bool(np.array_equal(u, v))
        top = max(top, int(v.max()))
    return {"identical": same, "instances": top}


def kill_and_rerun(config, checkpoint, image, tmp: Path, plain: Path) -> dict:
    """Kill a run halfway, rerun it; compare with ``plain`` (an uninterrupted run's output)."""
    from volseg.io import open_volume

    plain_s = None
    if not plain.exists():
        plain_s = segment(config, checkpoint, image, plain)["wall_s"]
    out = tmp / "killed.zarr"

    def half() -> bool:
        done = done_blocks(out)
        return done.size > 0 and done.sum() >= done.size / 2

    first = segment(config, checkpoint, image, out, stop=half)
    done_at_kill = int(done_blocks(out).sum())
    before = chunk_times(out)
    again = segment(config, checkpoint, image, out)
    after = chunk_times(out)
    kept = sum(after.get(k) == t for k, t in before.items())
    identical = same_labels(plain, out)
    result = open_volume(f"{out}:labels/segmentation").attrs.get("blockwise_result", {})
    return {
        "killed": first["killed"], "killed_after_s": first["wall_s"],
        "predict_blocks": int(done_blocks(out).size), "predict_blocks_done_at_kill": done_at_kill,
        "maps_chunks_before_kill": len(before), "maps_chunks_kept_by_rerun": kept,
        "rerun_s": again["wall_s"], "rerun_worker_mb": again["worker_mb"],
        "killed_worker_mb": first["worker_mb"], "plain_s": plain_s,
        "rerun_decode_blocks": result.get("blocks_decoded"), **identical,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--unit", default="64,256,256", help="the 1x volume, z,y,x")
    p.add_argument("--block", default="64,256,256", help="predict and decode blocks, z,y,x")
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8], choices=sorted(LAYOUT))
    p.add_argument("--kill-size", type=int, default=1, choices=sorted(LAYOUT))
    args = p.parse_args(argv)
    unit = tuple(int(v) for v in args.unit.split(","))
    block = tuple(int(v) for v in args.block.split(","))
    rows = []
    with tempfile.TemporaryDirectory(prefix="volseg-segscale-") as name:
        tmp = Path(name)
        config, checkpoint = make_model(tmp, block)
        for size in sorted(set(args.sizes) | {args.kill_size}):
            shape = tuple(u * g for u, g in zip(unit, LAYOUT[size], strict=True))
            image = tmp / f"image{size}.zarr"
            start = time.perf_counter()
            make_image(image, shape)
            synth_s = time.perf_counter() - start
            if size not in args.sizes:
                continue
            load = os.getloadavg()[0]
            run = segment(config, checkpoint, image, tmp / f"seg{size}.zarr")
            voxels = int(np.prod(shape))
            rows.append({"size": size, "shape": shape, "voxels": voxels, "synth_s": synth_s,
                         "load_1min": load, **{k: v for k, v in run.items() if k != "log"},
                         "mvoxels_per_s": voxels / run["wall_s"] / 1e6})  # fmt: skip
            rate = rows[-1]["mvoxels_per_s"]
            print(f"{size}x {shape}: worker peak {run['worker_mb']:.0f} MB, main peak "
                  f"{run['main_mb']:.0f} MB, {run['wall_s']:.0f} s ({rate:.2f} Mvoxel/s), "
                  f"load {load:.1f}", flush=True)  # fmt: skip
        k = args.kill_size
        plain = tmp / f"seg{k}.zarr"  # the uninterrupted run of that size, when it ran above
        kill = kill_and_rerun(config, checkpoint, tmp / f"image{k}.zarr", tmp, plain)
    print("kill and rerun:", kill)
    flat = rows[-1]["worker_mb"] <= 1.25 * rows[0]["worker_mb"]
    payload = {"unit": unit, "block": block, "rows": rows, "kill_and_rerun": kill,
               "kill_size": k, "worker_peak_flat": flat}  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(payload, indent=2))
    return 0 if flat and kill["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
