"""Benchmark: volseg's streamed prediction vs MONAI ``sliding_window_inference``.

The same network (an rsunet checkpoint made here, fixed seed) and settings (window, overlap
0.25, gaussian blending, sigmoid/tanh heads) predict synthetic volumes of 1x, 4x and 8x a base
size. volseg runs ``volseg.infer.predict`` end to end: image read lazily from a zarr, maps
streamed block by block into a float32 zarr. MONAI gets the image in memory and returns the
maps in memory. Each (method, size) runs in a fresh process, so its peak resident memory
(sampled from ``/proc/self/statm``) is its own; the time is the best of ``--repeats`` runs
after a warm-up on a small volume.

Bars (DESIGN.md): speed within 10 % of MONAI (ratio >= 0.9), maps equal to 1e-5, and volseg's
peak memory at 8x no more than 1.2x that at 1x (peak of the first timed run; later runs start
from what earlier ones left resident). Exit code 1 when outputs disagree.

    python benchmarks/predict.py [--device cpu|cuda] [--threads 2] [--json results.json]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, _rss_bytes, parser, pin_mmap_threshold, print_table, write_json  # noqa: E402

SPEED_BAR = 0.9
MEMORY_BAR = 1.2
TOLERANCE = 1e-5
FACTORS = {1: (1, 1, 1), 4: (1, 2, 2), 8: (2, 2, 2)}

CONFIG = """
model:
  architecture: rsunet
  filters: {filters}
  input_size: {window}
  norm: group
data:
  image_transform: {{normalize: none}}
inference:
  sliding_window: {{overlap: 0.25, sw_batch_size: {batch}, padding_mode: constant}}
  block_shape: {block}
system:
  inference: {{num_gpus: {gpus}}}
"""


def triple(text: str) -> list[int]:
    values = [int(v) for v in text.split(",")]
    if len(values) != 3:
        raise SystemExit(f"expected z,y,x, got {text!r}")
    return values


def make_config(args: Any) -> str:
    return CONFIG.format(
        filters=args.filters, window=args.window, batch=args.batch,
        block=args.block or args.base,
        gpus=0 if args.device == "cpu" else -1,
    )  # fmt: skip


def synthetic(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A smooth blob field plus noise, float32 in about [-2, 2] (already 'normalised')."""
    rng = np.random.default_rng(seed)
    axes = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij", sparse=True)
    field = np.sin(axes[0] / 5) * np.cos(axes[1] / 9) + np.sin(axes[2] / 7)
    return (field + rng.normal(0, 0.3, shape)).astype(np.float32)


def prepare(args: Any, work: Path) -> dict[str, Any]:
    import torch

    from volseg.checkpoint import save_checkpoint
    from volseg.config import loads
    from volseg.io import write_volume
    from volseg.models import build

    (work / "config.yaml").write_text(make_config(args))
    cfg = loads(make_config(args))
    torch.manual_seed(0)
    model = build(cfg.model)
    save_checkpoint(
        work / "model.pt", model=model, model_cfg=cfg.model, config=cfg, epoch=0, step=0
    )
    shapes = {}
    for k in args.sizes:
        shape = tuple(b * f for b, f in zip(args.base, FACTORS[k], strict=True))
        write_volume(work / f"image{k}.zarr", synthetic(shape), voxel_size=(8, 8, 8),
                     chunks=(32, 64, 64), levels=1)  # fmt: skip
        shapes[k] = shape
    return shapes


# ---------------------------------------------------------------- child processes


def _sampled(fn: Any) -> tuple[float, float, float]:
    """(seconds, peak RSS MB, peak RSS MB above the start) of one call, RSS sampled."""
    import threading

    baseline = peak = _rss_bytes()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            time.sleep(0.002)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    start = time.perf_counter()
    try:
        fn()
    finally:
        seconds = time.perf_counter() - start
        done.set()
        thread.join()
    peak = max(peak, _rss_bytes())
    return seconds, peak / 2**20, (peak - baseline) / 2**20


def child(args: Any) -> None:
    import torch

    torch.set_num_threads(args.threads)
    work = Path(args.work)
    from volseg.checkpoint import build_model_from_checkpoint
    from volseg.config import load
    from volseg.infer import predict
    from volseg.io import open_volume
    from volseg.models import apply_activations

    cfg = load(work / "config.yaml")
    image = work / f"image{args.size}.zarr"
    warm = work / "warm.zarr"
    if args.child == "volseg":
        out = work / f"pred{args.size}.zarr"

        def run() -> None:
            predict(cfg, work / "model.pt", str(image), out, overwrite=True)

        predict(cfg, work / "model.pt", str(work / f"image{args.sizes[0]}.zarr"), warm,
                overwrite=True)  # fmt: skip
    else:
        device = torch.device(args.device)
        model = build_model_from_checkpoint(work / "model.pt").to(device)
        from monai.inferers import sliding_window_inference

        result: dict[str, np.ndarray] = {}

        def run(path: Path = image) -> None:
            x = torch.from_numpy(open_volume(path).numpy())[None, None].to(device)
            with torch.no_grad():
                y = sliding_window_inference(
                    x, args.window, args.batch, lambda t: apply_activations(model(t), cfg.model),
                    overlap=0.25, mode="gaussian", sigma_scale=0.125, padding_mode="constant",
                )  # fmt: skip
            result["maps"] = y[0].cpu().numpy()

        run(work / f"image{args.sizes[0]}.zarr")  # warm-up
    runs = [_sampled(run) for _ in range(max(1, args.repeats))]
    if args.child == "monai":
        np.save(work / f"monai{args.size}.npy", result["maps"])
    best = min(r[0] for r in runs)
    print(json.dumps({"seconds": best, "peak_mb": runs[0][1], "extra_mb": runs[0][2]}))


# ---------------------------------------------------------------- driver


def run_child(args: Any, work: Path, kind: str, size: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, "--work", str(work), "--size", str(size)]
    cmd += ["--device", args.device, "--threads", str(args.threads), "--repeats", str(args.repeats)]
    cmd += ["--window", ",".join(map(str, args.window)), "--base", ",".join(map(str, args.base))]
    cmd += ["--batch", str(args.batch), "--sizes", ",".join(map(str, args.sizes))]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = parser("volseg streamed prediction vs MONAI sliding_window_inference.")
    p.set_defaults(repeats=1)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--base", type=triple, default=[32, 128, 128], help="1x volume z,y,x")
    p.add_argument("--window", type=triple, default=[16, 64, 64], help="window z,y,x")
    p.add_argument("--block", type=triple, default=None, help="volseg block (default: base)")
    p.add_argument("--filters", default="[8, 16, 32, 64]", help="rsunet widths (YAML list)")
    p.add_argument("--batch", type=int, default=2, help="windows per forward pass")
    p.add_argument("--sizes", default="1,4,8", help="volume size factors")
    p.add_argument("--child", choices=("volseg", "monai"), help=argparse_hidden())
    p.add_argument("--work", help=argparse_hidden())
    p.add_argument("--size", type=int, help=argparse_hidden())
    args = p.parse_args()
    pin_mmap_threshold()
    args.sizes = [int(s) for s in str(args.sizes).split(",")]
    if args.child:
        child(args)
        return
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is visible.")
    work = Path(tempfile.mkdtemp(prefix="volseg-bench-predict-"))
    try:
        rows, ok = measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    title = f"sliding-window prediction on {args.device} ({args.threads} threads)"
    print_table(title, rows)
    first, last = rows[0].details["volseg_peak_mb"], rows[-1].details["volseg_peak_mb"]
    growth = last / first
    verdict = "met" if growth <= MEMORY_BAR else "NOT met"
    print(f"volseg peak memory {rows[-1].name.split()[0]} / {rows[0].name.split()[0]}: "
          f"{growth:.2f}x (bar <= {MEMORY_BAR}x {verdict})")  # fmt: skip
    if args.json:
        extra = {"device": args.device, "threads": args.threads, "memory_growth": growth,
                 "memory_bar": MEMORY_BAR, "memory_bar_met": growth <= MEMORY_BAR}  # fmt: skip
        write_json(args.json, title, rows, extra)
    sys.exit(0 if ok else 1)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


def measure(args: Any, work: Path) -> tuple[list[Row], bool]:
    from volseg.io import open_volume

    shapes = prepare(args, work)
    rows, ok = [], True
    for k in args.sizes:
        ours = run_child(args, work, "volseg", k)
        theirs = run_child(args, work, "monai", k)
        diff = float(np.abs(open_volume(work / f"pred{k}.zarr").numpy()
                            - np.load(work / f"monai{k}.npy")).max())  # fmt: skip
        ok &= diff <= TOLERANCE
        voxels = int(np.prod(shapes[k]))
        rows.append(Row(
            name=f"{k}x {'x'.join(map(str, shapes[k]))}",
            volseg_s=ours["seconds"], reference_s=theirs["seconds"],
            reference="monai.sliding_window_inference", peak_mb=ours["peak_mb"],
            agree=f"max diff {diff:.1e}", bar=SPEED_BAR, passed=diff <= TOLERANCE,
            details={
                "voxels": voxels,
                "volseg_voxels_per_s": voxels / ours["seconds"],
                "monai_voxels_per_s": voxels / theirs["seconds"],
                "volseg_peak_mb": ours["peak_mb"], "volseg_extra_mb": ours["extra_mb"],
                "monai_peak_mb": theirs["peak_mb"], "monai_extra_mb": theirs["extra_mb"],
                "max_abs_diff": diff,
            },
        ))  # fmt: skip
        print(f"{rows[-1].name}: volseg {voxels / ours['seconds']:,.0f} vox/s, "
              f"{ours['peak_mb']:.0f} MB peak ({ours['extra_mb']:.0f} MB extra); "
              f"MONAI {voxels / theirs['seconds']:,.0f} vox/s, {theirs['peak_mb']:.0f} MB peak "
              f"({theirs['extra_mb']:.0f} MB extra); max diff {diff:.1e}", flush=True)  # fmt: skip
    return rows, ok


if __name__ == "__main__":
    main()
