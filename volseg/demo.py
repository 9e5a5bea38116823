"""``volseg demo``: the end-to-end job on embedded data, with what is implemented so far.

Training and prediction (issues 5 and 6) do not exist yet, so the "predictions" here are the
ground-truth target maps degraded with blur and noise, and the demo says so. Everything after
that is the real pipeline: threshold sweep, decode, evaluate, report.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from volseg.atomic import atomic_write, atomic_write_text

console = Console(soft_wrap=True)
TARGETS = [
    {"name": "binary", "kwargs": {}},
    {"name": "instance_boundary", "kwargs": {"thickness": 1, "edge_mode": "seg-all"}},
    {"name": "instance_edt", "kwargs": {"mode": "3d"}},
]
CHANNELS = ["binary", "boundary", "distance"]
SWEEP_SPACE = {
    "binary_threshold.seed": [0.6, 0.75, 0.9],
    "binary_threshold.fg": [0.3, 0.5, 0.7],
    "distance_threshold.seed": [0.3, 0.45, 0.6],
    "distance_threshold.fg": [-0.6, -0.3, 0.0],
}


def degrade(maps: np.ndarray, *, seed: int, sigma: float = 1.0, noise: float = 0.08) -> np.ndarray:
    """Stand-in for a network's output: blur each map in-plane and add noise."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    out = np.empty_like(maps)
    for c in range(maps.shape[0]):
        blurred = ndimage.gaussian_filter(maps[c], sigma=(0.5 * sigma, sigma, sigma))
        out[c] = blurred + rng.normal(0.0, noise, blurred.shape).astype(np.float32)
    out[:2] = np.clip(out[:2], 0.0, 1.0)
    out[2] = np.clip(out[2], -1.0, 1.0)
    return out


def slice_figure(raw, gt, maps, seg, path: Path) -> Path:
    """One z-slice: raw | ground truth | each map | segmentation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z = int(np.argmax((gt > 0).sum(axis=(1, 2))))
    panels = [("raw", raw[z], "gray"), ("ground truth", gt[z], None)]
    panels += [(name, maps[i, z], "magma") for i, name in enumerate(CHANNELS)]
    panels += [("segmentation", seg[z], None)]
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3.2), dpi=90)
    rng = np.random.default_rng(0)
    colours = rng.random((int(max(gt.max(), seg.max())) + 1, 3))
    colours[0] = 0
    for ax, (title, img, cmap) in zip(axes, panels, strict=True):
        ax.imshow(colours[img] if cmap is None else img, cmap=cmap, interpolation="nearest")
        ax.set_title(f"{title} (z={z})", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    out = atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return out


def run(out: str | Path, *, shape=(48, 160, 160), seed: int = 0, workers: int | None = None):
    """Run the demo into ``out``; returns the metrics dictionary."""
    from volseg.data.synth import vesicles
    from volseg.data.targets import make_targets
    from volseg.decode import contour_distance
    from volseg.io import write_volume
    from volseg.maps import describe
    from volseg.metrics import adapted_rand, match_instances, voi
    from volseg.tune import heatmap, sweep, write_csv, write_thresholds

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    voxel_size = (30.0, 8.0, 8.0)
    raw, gt, mask = vesicles(shape=shape, voxel_size=voxel_size, seed=seed)
    data = out / "vesicles.zarr"
    write_volume(data, raw, voxel_size=voxel_size, kind="image", overwrite=True)
    write_volume(data, gt, voxel_size=voxel_size, kind="labels", key="labels/vesicles")
    timings["synthesise"] = time.perf_counter() - t
    console.print(
        f"1. synthetic vesicles {shape} at {voxel_size} nm: {gt.max()} instances -> {data}"
    )

    t = time.perf_counter()
    targets = make_targets(gt, voxel_size, TARGETS)
    maps = degrade(targets, seed=seed + 1)
    pred = out / "predictions.zarr"
    write_volume(pred, maps, voxel_size=voxel_size, kind="maps", attrs=describe(CHANNELS),
                 overwrite=True)  # fmt: skip
    timings["targets + degrade"] = time.perf_counter() - t
    console.print(
        "2. [yellow]no network yet (training/prediction are issues 5-6)[/]: maps = ground-truth "
        f"targets (binary, boundary, EDT) blurred and noised -> {pred}"
    )

    t = time.perf_counter()
    result = sweep(maps, gt, SWEEP_SPACE, workers=workers)
    write_csv(result, out / "sweep.csv")
    heatmap(result, out / "sweep_are.png")
    write_thresholds(result, [out], sources={"predictions": str(pred), "ground_truth": str(data)})
    timings["sweep"] = time.perf_counter() - t
    console.print(
        f"3. swept {len(result.rows)} decoder settings in {result.seconds:.1f} s; "
        f"best ARE {result.best_row['are']:.4f} -> {out / 'thresholds.json'}"
    )

    t = time.perf_counter()
    seg = contour_distance(maps, **result.best_params)
    write_volume(out / "labels.zarr", seg, voxel_size=voxel_size, kind="labels", overwrite=True)
    timings["decode"] = time.perf_counter() - t
    are, precision, recall = adapted_rand(seg, gt)
    split, merge = voi(seg, gt)
    matches = match_instances(seg, gt, thresholds=(0.5, 0.75))
    metrics: dict[str, Any] = {
        "adapted_rand_error": are, "precision": precision, "recall": recall,
        "voi_split": split, "voi_merge": merge, "instances_gt": int(gt.max()),
        "instances_seg": int(seg.max()), "matching": matches, "seconds": timings,
    }  # fmt: skip
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2, default=float) + "\n")
    console.print(
        f"4. decoded {seg.max()} instances ({gt.max()} in ground truth): ARE {are:.4f}, "
        f"precision {precision:.4f}, recall {recall:.4f}"
    )
    slice_figure(raw, gt, maps, seg, out / "slices.png")
    write_report(out, metrics, result)
    console.print(f"report: {out / 'report.md'}")
    return metrics


def write_report(out: Path, metrics: dict[str, Any], result) -> Path:
    rows = "\n".join(
        f"| {k} | {metrics[k]:.4f} |"
        for k in ("adapted_rand_error", "precision", "recall", "voi_split", "voi_merge")
    )
    match_rows = "\n".join(
        f"| {t} | {m['tp']} | {m['fp']} | {m['fn']} | {m['precision']:.3f} | {m['recall']:.3f} "
        f"| {m['f1']:.3f} |"
        for t, m in metrics["matching"].items()
    )
    best = ", ".join(f"{k}={v}" for k, v in result.best_params.items())
    text = f"""# volseg demo report

Data: synthetic vesicles ({metrics["instances_gt"]} instances, 30x8x8 nm voxels).

**No network is trained yet** (training and prediction are issues 5 and 6): the maps are the
ground-truth targets (binary, instance boundary, instance EDT) blurred and noised, so the
scores below measure the decoder and the sweep, not a model.

## Segmentation scores

| metric | value |
|---|---|
{rows}

| IoU threshold | TP | FP | FN | precision | recall | F1 |
|---|---|---|---|---|---|---|
{match_rows}

Best decoder settings of {len(result.rows)} swept ({result.seconds:.1f} s): {best}

![sweep](sweep_are.png)

![slices](slices.png)
"""
    return atomic_write_text(out / "report.md", text)
