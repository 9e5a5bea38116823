"""Benchmark: volseg metrics vs scikit-image on 4.2 M voxels of real EM labels.

Ground truth: the first 67 z-planes of the neuroproof ``labels`` (67 x 250 x 250 = 4.19 M voxels,
dense neuron ids). Segmentation: the same labels with boundaries shifted, the largest bodies
split and some bodies merged. Times are the best of ``--repeats`` runs, measured in this run for
both libraries; outputs must agree to 1e-9 (exit code 1 otherwise).

Bar (DESIGN.md): adapted Rand error >= 5x faster than ``skimage.metrics.adapted_rand_error``.

    python benchmarks/metrics.py [--repeats 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
NEUROPROOF = DATA / "neuroproof_training_sample2" / "volume.h5"
TOLERANCE = 1e-9
BAR = 5.0


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls (after one warm-up call) and the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def make_case(*, n_z: int = 67, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ground truth crop and a perturbed segmentation (shifted, split and merged bodies)."""
    if not NEUROPROOF.exists():
        sys.exit(f"benchmark data missing: {NEUROPROOF} (see DESIGN.md, 'Data').")
    with h5py.File(NEUROPROOF, "r") as f:
        gt = f["labels"][:n_z]
    rng = np.random.default_rng(seed)
    seg = np.roll(gt, (1, 2), axis=(1, 2)).astype(np.uint32)  # boundaries shifted
    ids, sizes = np.unique(gt[gt > 0], return_counts=True)
    largest = ids[np.argsort(sizes)[-10:]]
    split = np.isin(seg, largest) & (np.arange(gt.shape[2]) >= gt.shape[2] // 2)
    seg[split] += 200_000  # ten largest bodies split in two along x
    pairs = rng.choice(ids[sizes >= 1000], size=(15, 2), replace=False)
    lut = np.arange(int(seg.max()) + 1, dtype=np.uint32)
    lut[pairs[:, 1]] = pairs[:, 0]  # fifteen pairs of bodies merged
    return gt, lut[seg]


def run(repeats: int) -> dict[str, Any]:
    from skimage.metrics import adapted_rand_error, variation_of_information

    from volseg.metrics import adapted_rand, contingency, voi

    gt, seg = make_case()
    t_table, table = best_of(lambda: contingency(seg, gt), repeats)
    t_are, ours = best_of(lambda: adapted_rand(seg, gt), repeats)
    t_sk, theirs = best_of(lambda: adapted_rand_error(gt, seg), repeats)
    t_voi, our_vi = best_of(lambda: voi(seg, gt), repeats)
    t_sk_vi, their_vi = best_of(
        lambda: variation_of_information(gt, seg, ignore_labels=(0,)), repeats
    )
    t_from_table, _ = best_of(lambda: (adapted_rand(table=table), voi(table=table)), repeats)
    # skimage returns precision and recall swapped (scikit-image issue #6485).
    are_diff = max(abs(ours[0] - theirs[0]), abs(ours[1] - theirs[2]), abs(ours[2] - theirs[1]))
    voi_diff = max(abs(a - b) for a, b in zip(our_vi, their_vi, strict=True))
    return {
        "case": {
            "shape": list(gt.shape),
            "voxels": int(gt.size),
            "gt_bodies": int(np.unique(gt).size),
            "seg_bodies": int(np.unique(seg).size),
            "pairs_in_table": int(table.counts.size),
        },
        "repeats": repeats,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "seconds": {
            "contingency": t_table,
            "adapted_rand": t_are,
            "skimage_adapted_rand_error": t_sk,
            "voi": t_voi,
            "skimage_variation_of_information": t_sk_vi,
            "are_and_voi_from_table": t_from_table,
        },
        "speedup": {"adapted_rand": t_sk / t_are, "voi": t_sk_vi / t_voi},
        "values": {
            "are": ours[0],
            "precision": ours[1],
            "recall": ours[2],
            "voi_split": our_vi[0],
            "voi_merge": our_vi[1],
        },
        "max_abs_difference": {"adapted_rand": are_diff, "voi": voi_diff},
        "equal_to_1e-9": bool(are_diff <= TOLERANCE and voi_diff <= TOLERANCE),
        "bar": {"adapted_rand_speedup": BAR, "met": bool(t_sk / t_are >= BAR)},
    }


def print_table(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    s, case = r["seconds"], r["case"]
    title = (
        f"metrics on {'x'.join(map(str, case['shape']))} = {case['voxels'] / 1e6:.2f} M voxels "
        f"(neuroproof labels, {case['gt_bodies']} gt / {case['seg_bodies']} seg ids), "
        f"best of {r['repeats']}"
    )
    table = Table(title=title)
    for col in ("metric", "volseg (ms)", "skimage (ms)", "speed-up", "max |diff|"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    diff = r["max_abs_difference"]
    table.add_row(
        "adapted Rand error", f"{s['adapted_rand'] * 1e3:.1f}",
        f"{s['skimage_adapted_rand_error'] * 1e3:.1f}", f"{r['speedup']['adapted_rand']:.1f}x",
        f"{diff['adapted_rand']:.1e}",
    )  # fmt: skip
    table.add_row(
        "VOI (split, merge)", f"{s['voi'] * 1e3:.1f}",
        f"{s['skimage_variation_of_information'] * 1e3:.1f}", f"{r['speedup']['voi']:.1f}x",
        f"{diff['voi']:.1e}",
    )  # fmt: skip
    table.add_row("contingency table alone", f"{s['contingency'] * 1e3:.1f}", "", "", "")
    table.add_row("ARE + VOI from a table", f"{s['are_and_voi_from_table'] * 1e3:.2f}", "", "", "")
    Console().print(table)
    v = r["values"]
    print(
        f"ARE {v['are']:.6f} (precision {v['precision']:.6f}, recall {v['recall']:.6f}), "
        f"VOI split {v['voi_split']:.4f} / merge {v['voi_merge']:.4f} bits"
    )
    print(f"equal to skimage within {TOLERANCE:g}: {'yes' if r['equal_to_1e-9'] else 'NO'}")
    verdict = "met" if r["bar"]["met"] else "NOT met"
    print(f"bar: adapted Rand >= {BAR:g}x faster than skimage: {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per call (best kept)")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args(argv)
    result = run(max(1, args.repeats))
    print_table(result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["equal_to_1e-9"] else 1


if __name__ == "__main__":
    sys.exit(main())
