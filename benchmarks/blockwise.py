"""Benchmark: blockwise decoding vs decoding the whole volume at once, and decode-worker start-up.

Maps: oracle maps of the neuroproof ``labels`` (250^3, 10 nm), made with ``make_targets``:

* ``hydra-lv``: binary, instance boundary on both sides of every contact (``seg-all``),
  instance EDT; decoded by ``contour_distance`` with the hydra-lv settings (binary (0.9, 0.85),
  contour (0.8, None), distance (0.5, 0.0), min_seed_size 32), the settings of issue 13.
* ``tutorial``: the targets and ``test.decoding`` settings of
  ``tutorials/neuroproof-neurons.yaml`` (binary + face-neighbour boundary, boundary-map
  watershed with a contour ridge, min_seed_size 20, min_instance_size 100).
* ``watershed``: the hydra-lv maps decoded by ``watershed`` on the distance channel with
  threshold seeds (distance > 0.5, min_seed_size 32).

Reference: one whole-volume decode of the same maps in memory. Each blockwise row reads the
maps from zarr, runs every round (global seeds, flood rounds, ids) on a ``LocalCluster`` of 2
worker processes with one thread each, and writes OME-Zarr labels; its time includes that
I/O, not the cluster start. Blocks of 32^3, 64^3, 128^3 with the default halo (16 voxels).
Agreement: adapted Rand error between the blockwise and the whole-volume labels (bar <= 0.005;
exit code 1 above it) and whether the two are the same partition. ``worker MB``: the largest
resident set of a worker after the row (workers live through all rows). ``load``: the 1-minute
load average before the row; the 2 cores are shared with other jobs, so times above load 2
are inflated. Where the blockwise time goes: each block's first flood reads its maps and
stores its fixed inputs (height, foreground, seeds), later rounds read those and only the
cut faces of the neighbours' states, and a block floods again only when a neighbour changed
a voxel it reads (``volseg.infer.seeded_tasks``).

Start-up: a fresh Python process that imports what a decode worker imports to run a task
(``volseg.infer.decode_tasks`` and ``volseg.infer.seeded_tasks``), against the same plus
``volseg.infer.predict``, which the old ``volseg.infer/__init__`` pulled in (torch); the
time to import and the resident set after it, best of 3.

    python benchmarks/blockwise.py [--json results.json] [--only hydra-lv] [--blocks 64]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import Row, parser, print_table, write_json

# the settings live once, beside the tests that check them against the tutorial
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.infer.blockwise_cases import NEUROPROOF, SETTINGS  # noqa: E402

BLOCKS = (32, 64, 128)
ARE_LIMIT = 0.005
WORKER_IMPORTS = "import volseg.infer.decode_tasks, volseg.infer.seeded_tasks"
OLD_INIT = WORKER_IMPORTS + ", volseg.infer.predict"
STARTUP = (
    "import resource, time; t = time.perf_counter(); {imports}; "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.array_equal(a > 0, b > 0):
        return False
    fg = a > 0
    pairs = np.unique(np.stack([a[fg], b[fg]]).astype(np.int64), axis=1).shape[1]
    return pairs == len(np.unique(a[fg])) == len(np.unique(b[fg]))


def startup(imports: str, repeats: int = 3) -> tuple[float, float]:
    """Best import time (s) and resident set (MB) of a fresh process importing ``imports``."""
    best = (float("inf"), 0.0)
    for _ in range(repeats):
        code = STARTUP.format(imports=imports)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr)
        seconds, rss = (float(v) for v in out.stdout.split()[-2:])
        best = min(best, (seconds, rss))
    return best


def startup_rows() -> list[Row]:
    new_s, new_mb = startup(WORKER_IMPORTS)
    old_s, old_mb = startup(OLD_INIT)
    return [
        Row(
            name="decode worker start-up (imports)", volseg_s=new_s, reference_s=old_s,
            reference="the same imports plus torch (old volseg.infer.__init__)",
            peak_mb=new_mb, agree=f"RSS {new_mb:.0f} MB vs {old_mb:.0f} MB",
            details={"rss_mb": new_mb, "reference_rss_mb": old_mb},
        )
    ]  # fmt: skip


def worker_rss_mb(client: Any) -> float:
    def peak() -> float:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    return max(client.run(peak).values())


def main(argv: list[str] | None = None) -> int:
    from distributed import Client, LocalCluster

    from volseg.data import make_targets
    from volseg.decode import decode
    from volseg.infer.blockwise_decode import blockwise_decode
    from volseg.io import open_volume, write_volume
    from volseg.metrics import adapted_rand

    p = parser(__doc__.splitlines()[0])
    p.add_argument("--only", choices=sorted(SETTINGS), action="append")
    p.add_argument("--blocks", type=int, action="append")
    args = p.parse_args(argv)
    if not NEUROPROOF.exists():
        sys.exit(f"benchmark data missing: {NEUROPROOF} (see DESIGN.md, 'Data').")
    rows = startup_rows()
    gt_vol = open_volume(f"{NEUROPROOF}:labels")
    gt = gt_vol.numpy()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    try:
        with tempfile.TemporaryDirectory(prefix="volseg-bench-") as tmp:
            for name in args.only or SETTINGS:
                targets, decoder, params = SETTINGS[name]
                maps = make_targets(gt, gt_vol.voxel_size, targets)
                decode(maps[:, :32, :32, :32], decoder, params)  # compile outside the timing
                start = time.perf_counter()
                whole = decode(maps, decoder, params)
                t_whole = time.perf_counter() - start
                path = Path(tmp) / f"{name}.zarr"
                write_volume(path, maps, voxel_size=gt_vol.voxel_size, kind="maps", chunks=32,
                             levels=1)  # fmt: skip
                for block in args.blocks or BLOCKS:
                    load = os.getloadavg()[0]
                    start = time.perf_counter()
                    seg_vol = blockwise_decode(
                        path, Path(tmp) / f"{name}-{block}.zarr", decoder=decoder,
                        params=params, block_shape=block, client=client,
                    )  # fmt: skip
                    t = time.perf_counter() - start
                    seg = seg_vol.numpy()
                    are, precision, recall = adapted_rand(seg, whole)
                    identical = same_partition(seg, whole)
                    result = seg_vol.attrs["blockwise_result"]
                    rows.append(
                        Row(
                            name=f"{name}: {block}^3 blocks, 2 workers",
                            volseg_s=t,
                            reference_s=t_whole,
                            reference=f"whole-volume {decoder} (in memory)",
                            peak_mb=worker_rss_mb(client),
                            agree=f"ARE {are:.1e}"
                            + (", identical" if identical else "")
                            + f"; load {load:.1f}",
                            passed=are <= ARE_LIMIT,
                            details={
                                "are": are,
                                "precision": precision,
                                "recall": recall,
                                "identical": identical,
                                "instances": int(seg.max()),
                                "whole_instances": int(whole.max()),
                                "load_1min": load,
                                **result,
                            },
                        )  # fmt: skip
                    )
                    print(rows[-1].name, rows[-1].agree, f"{t:.1f} s", flush=True)
    finally:
        client.close()
        cluster.close()
    title = (
        "blockwise vs whole-volume decode, neuroproof 250^3 oracle maps, default halo, "
        "LocalCluster of 2 processes; worker start-up"
    )
    print_table(title, rows)
    if args.json is not None:
        settings = {k: {"decoder": d, "params": p} for k, (_, d, p) in SETTINGS.items()}
        write_json(args.json, title, rows, {"settings": settings})
    failed = [r.name for r in rows if not r.passed]
    if failed:
        print(f"agreement check failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
