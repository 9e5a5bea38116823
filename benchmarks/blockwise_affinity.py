"""Blockwise against whole-volume decoding of affinities on NeuroProof (issue 18 item 4).

Maps: oracle isotropic-9 affinities of the NeuroProof labels (250^3, 10 nm), blurred
(sigma 1.5), darkened with a power of 4 and given seeded gaussian noise (0.1), clipped to
[0, 1] (``tests/infer/affinity_cases.py``), written as float32 zarr maps with their offsets.
Each affinity decoder decodes them whole and with ``blockwise_decode`` at 64^3 and 128^3
blocks (default halo: 16 voxels). Agreement is scored against the whole-volume decode:
adapted Rand error (the bar: <= 0.01) and VOI split / merge in bits; the whole-volume
decode's error against the ground truth is listed for scale. Single process, threads.

Run: ``python benchmarks/blockwise_affinity.py`` (about ten minutes on 2 cores); writes
``benchmarks/results/blockwise_affinity.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.infer.affinity_cases import OFFSETS, noisy_affinities, write_affinity_maps  # noqa: E402
from tests.infer.blockwise_cases import NEUROPROOF  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "blockwise_affinity.json"
BAR = 0.01
DECODERS: list[tuple[str, str, dict[str, Any]]] = [
    ("affinity_cc", "affinity_cc", {"threshold": 0.8, "min_instance_size": 20}),
    ("agglomerate", "agglomerate", {"threshold": 0.5, "min_instance_size": 20}),
    ("mutex_watershed", "mutex_watershed", {"min_instance_size": 20}),
    ("agglomerate quantile 50", "agglomerate",
     {"threshold": 0.5, "merge_function": "quantile", "quantile": 50, "min_instance_size": 20}),
]  # fmt: skip


def _scores(seg: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    from volseg.metrics import adapted_rand, voi

    split, merge = voi(seg, ref)
    return {"are": float(adapted_rand(seg, ref)[0]), "voi_split": float(split),
            "voi_merge": float(merge)}  # fmt: skip


def run(blocks: list[int], crop: int | None, save: Any, only: list[str]) -> dict[str, Any]:
    """Decode whole and blockwise; one row per decoder and block shape (``save(rows)``
    after each, so that an interrupted run keeps what it measured)."""
    import h5py

    from volseg.decode import decode
    from volseg.infer.blockwise_decode import blockwise_decode

    with h5py.File(NEUROPROOF, "r") as f:
        labels = np.asarray(f["labels"][(slice(0, crop),) * 3])
    affs = noisy_affinities(labels, seed=0)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        maps = write_affinity_maps(Path(tmp) / "maps.zarr", affs, chunks=32)
        for name, decoder, params in DECODERS:
            if only and name not in only:
                continue
            full = {**params, "offsets": OFFSETS}
            start = time.perf_counter()
            whole = decode(affs, decoder, full)
            whole_s = time.perf_counter() - start
            gt = _scores(whole, labels)
            for b in blocks:
                start = time.perf_counter()
                out = Path(tmp) / f"{decoder}-{len(rows)}.zarr"
                volume = blockwise_decode(maps, out, decoder=decoder, params=full, block_shape=b)
                seg = np.asarray(volume.data[:])
                row = {
                    "decoder": name, "params": params, "block_shape": [b] * 3,
                    **_scores(seg, whole), "instances_whole": int(whole.max()),
                    "instances_blockwise": int(len(np.unique(seg[seg > 0]))),
                    "seconds_whole": round(whole_s, 2),
                    "seconds_blockwise": round(time.perf_counter() - start, 2),
                    "whole_are_vs_gt": round(gt["are"], 4),
                }  # fmt: skip
                row["bar_met"] = row["are"] <= BAR
                rows.append(row)
                save(rows)
                print(json.dumps(row), flush=True)
    return {"shape": list(labels.shape), "rows": rows}


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a markdown table."""
    lines = [
        "| decoder | blocks | ARE vs whole | VOI split | VOI merge | instances whole / blockwise "
        "| s whole / blockwise | bar <= 0.01 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['decoder']} | {r['block_shape'][0]}^3 | {r['are']:.4f} | "
            f"{r['voi_split']:.3f} | {r['voi_merge']:.3f} | {r['instances_whole']} / "
            f"{r['instances_blockwise']} | {r['seconds_whole']} / {r['seconds_blockwise']} | "
            f"{'met' if r['bar_met'] else 'NOT met'} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blocks", type=int, nargs="+", default=[64, 128])
    p.add_argument("--crop", type=int, default=None, help="decode only the first N^3 voxels")
    p.add_argument("--json", type=Path, default=RESULTS)
    p.add_argument("--only", nargs="+", default=[], help="decoder rows to (re)run; the other "
                   "rows of an existing --json of the same crop are kept")  # fmt: skip
    args = p.parse_args()
    kept: list[dict[str, Any]] = []
    if args.only and args.json.exists():
        old = json.loads(args.json.read_text())
        if old.get("crop") == args.crop:
            kept = [r for r in old["rows"] if r["decoder"] not in args.only]

    def save(rows: list[dict[str, Any]]) -> None:
        payload = {
            "title": "blockwise vs whole-volume affinity decoding, NeuroProof noisy oracle maps",
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "cpus": os.cpu_count(), "bar_are": BAR, "maps": "isotropic-9 oracle, sigma 1.5, "
            "power 4, noise 0.1 (seed 0)", "crop": args.crop, "rows": kept + rows,
        }  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")

    result = run(args.blocks, args.crop, save, args.only)
    print(table(kept + result["rows"]))


if __name__ == "__main__":
    main()
