"""The demo report: overlay figures and ``report.md``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import atomic_write, atomic_write_text


def _colours(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    colours = rng.uniform(0.2, 1.0, (n + 1, 3))
    colours[0] = 0
    return colours


def overlay_figure(path: Path, raw, gt, maps, seg) -> Path:
    """One z-slice: raw | foreground map, ground truth and segmentation over raw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z = int(np.argmax((gt > 0).sum(axis=(1, 2))))
    img = raw[z].astype(np.float32)
    img = (img - img.min()) / max(float(np.ptp(img)), 1e-6)
    grey = np.repeat(img[..., None], 3, axis=2)
    colours = _colours(int(max(gt.max(), seg.max())))

    def over(labels: np.ndarray) -> np.ndarray:
        rgb = grey.copy()
        inside = labels > 0
        rgb[inside] = 0.5 * rgb[inside] + 0.5 * colours[labels[inside]]
        return rgb

    prob = np.clip(maps[0, z], 0, 1)
    heat = grey.copy()
    heat[..., 0] = np.maximum(grey[..., 0], prob)  # red where the map is high
    heat[..., 1:] *= (1 - 0.7 * prob)[..., None]
    panels = [("raw", grey), ("prediction (foreground)", heat),
              ("ground truth", over(gt[z])), ("segmentation", over(seg[z]))]  # fmt: skip
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.3), dpi=90)
    for ax, (title, rgb) in zip(axes, panels, strict=True):
        ax.imshow(rgb, interpolation="nearest")
        ax.set_title(f"{title}, z={z}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    out = atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
    return out


def training_curves(run_dir: Path, path: Path) -> Path | None:
    """Loss/metric curves (raw and moving average) from the run's ``metrics.csv``."""
    from volseg.train.figures import save_curves

    rows = []
    with open(run_dir / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows.append({k: float(v) for k, v in row.items() if v not in ("", None)})
    return save_curves(path, rows)


def write_report(out: Path, metrics: dict[str, Any], result, run_dir: Path) -> Path:
    """``report.md``: the scores report of :mod:`volseg.metrics.evaluate`, sweep, curves, slices."""
    from volseg.metrics.summary import markdown

    curves = training_curves(run_dir, out / "training_curves.png")
    best = ", ".join(f"`{k}={v}`" for k, v in metrics["best_params"].items())
    secs = ", ".join(f"{k} {v:.0f} s" for k, v in metrics["seconds"].items())
    curves_md = f"![training curves]({curves.name})\n" if curves else ""
    sw = metrics["sweep"]
    text = f"""# volseg demo report

Data: {metrics["data"]}. Run directory: `{run_dir}`.

Scores on the {metrics["evaluated_on"]}: no training patch and no threshold sweep saw these
slices (the sweep used the first half of the held-out range). Every score names what it
counts: the segmentation's foreground is `labels > 0` against ground truth > 0; the map's
scores are in their own table.

{markdown(metrics)}
Decoder settings chosen by the sweep ({sw["settings"]} settings, {sw["skipped"]} skipped as
outside the maps' value range, {result.seconds:.1f} s) by `{sw["metric"]}` ({sw["reason"]}):
{best}. Saved to `{sw["thresholds"]}`.

Time: {secs}.

{curves_md}
![sweep](sweep_heatmap.png)

![slices](slices.png)

Open everything in napari: `volseg view {out}`
"""
    return atomic_write_text(out / "report.md", text)
