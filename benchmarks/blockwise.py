"""Benchmark: blockwise decoding with stitching vs decoding the whole volume at once.

Maps: the oracle maps of the neuroproof ``labels`` (250^3, 10 nm; ``make_targets`` binary,
face-neighbour instance boundary, instance EDT, as ``tutorials/neuroproof-neurons.yaml``),
stored as a float32 zarr in a temporary folder. Decoder: ``contour_distance`` with the settings
that decode this volume well (seeds = body interiors, 6-connected flood, 18-connected seeds,
contour ridge; see ``tests/decode/test_oracle.py``). Reference: one ``contour_distance`` call
on the maps in memory. Each blockwise row reads the maps from zarr, decodes every block with
its halo, stitches and writes the labels as OME-Zarr, on Dask threads or on a
``LocalCluster`` of 2 worker processes (one thread each); its time includes that I/O and, for
the cluster, the shipping of tasks, not the cluster start. Agreement: adapted Rand error
between the blockwise and the whole-volume labels (the bar: <= 0.005; exit code 1 above it)
and whether the two are the same partition up to renumbering.

Blocks of 32^3 with a halo of 8 read 3.4x the voxels of the volume, so on 2 cores they are
slower than one whole-volume call; blockwise decoding is for volumes that do not fit in
memory, and for many machines.

    python benchmarks/blockwise.py [--repeats 1] [--json results.json]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import Row, parser, peak_memory_mb, pin_mmap_threshold, print_table, write_json

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
NEUROPROOF = DATA / "neuroproof_training_sample2" / "volume.h5"
PARAMS = {
    "distance_threshold": (0.0, 0.0),
    "contour_threshold": (0.5, None),
    "min_seed_size": 1,
    "connectivity": 6,
    "seed_connectivity": 18,
    "contour_ridge": True,
}
SPEC = [
    {"name": "binary"},
    {"name": "instance_boundary", "kwargs": {"edge_mode": "seg-all", "connectivity": 6}},
    {"name": "instance_edt"},
]
ARE_LIMIT = 0.005
# (row name, block shape, halo, on a LocalCluster)
SETTINGS = [
    ("32^3 blocks, halo 8, threads", 32, 8, False),
    ("32^3 blocks, halo 8, 2 workers", 32, 8, True),
    ("64^3 blocks, halo 8, 2 workers", 64, 8, True),
    ("128^3 blocks, halo 16, 2 workers", 128, 16, True),
]


def timed(fn: Any, repeats: int) -> tuple[float, float, Any]:
    """Best time of ``repeats`` calls, the peak memory (MB) of the first, and a result."""
    best, result = float("inf"), None

    def once() -> None:
        nonlocal best, result
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)

    peak = peak_memory_mb(once)
    for _ in range(max(0, repeats - 1)):
        once()
    return best, peak, result


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    if not np.array_equal(a > 0, b > 0):
        return False
    fg = a > 0
    pairs = np.unique(np.stack([a[fg], b[fg]]).astype(np.int64), axis=1).shape[1]
    return pairs == len(np.unique(a[fg])) == len(np.unique(b[fg]))


def main(argv: list[str] | None = None) -> int:
    from distributed import Client, LocalCluster

    from volseg.data import make_targets
    from volseg.decode import contour_distance
    from volseg.infer.blockwise_decode import blockwise_decode
    from volseg.io import open_volume, write_volume
    from volseg.metrics import adapted_rand

    p = parser(__doc__.splitlines()[0])
    p.set_defaults(repeats=1)
    args = p.parse_args(argv)
    pin_mmap_threshold()
    if not NEUROPROOF.exists():
        sys.exit(f"benchmark data missing: {NEUROPROOF} (see DESIGN.md, 'Data').")
    gt_vol = open_volume(f"{NEUROPROOF}:labels")
    maps = make_targets(gt_vol.numpy(), gt_vol.voxel_size, SPEC)
    contour_distance(maps[:, :32, :32, :32], **PARAMS)  # compile outside the timings
    t_whole, peak_whole, whole = timed(lambda: contour_distance(maps, **PARAMS), args.repeats)
    rows: list[Row] = []
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    try:
        with tempfile.TemporaryDirectory(prefix="volseg-bench-") as tmp:
            path = Path(tmp) / "maps.zarr"
            write_volume(path, maps, voxel_size=gt_vol.voxel_size, kind="maps", chunks=32, levels=1)
            for name, block, halo, on_cluster in SETTINGS:
                out = Path(tmp) / f"{block}-{halo}-{on_cluster}.zarr"

                def run(block=block, halo=halo, on_cluster=on_cluster, out=out) -> Any:
                    return blockwise_decode(
                        path, out, params=PARAMS, block_shape=block, halo=halo,
                        client=client if on_cluster else None, overwrite=True,
                    )  # fmt: skip

                t, peak, seg_vol = timed(run, args.repeats)
                seg = seg_vol.numpy()
                are, precision, recall = adapted_rand(seg, whole)
                identical = same_partition(seg, whole)
                result = seg_vol.attrs["blockwise_result"]
                rows.append(
                    Row(
                        name=name,
                        volseg_s=t,
                        reference_s=t_whole,
                        reference="whole-volume contour_distance (in memory)",
                        peak_mb=peak,
                        agree=f"ARE {are:.1e}" + (", identical" if identical else ""),
                        passed=are <= ARE_LIMIT,
                        details={
                            "are": are,
                            "precision": precision,
                            "recall": recall,
                            "identical": identical,
                            "instances": int(seg.max()),
                            "whole_instances": int(whole.max()),
                            **result,
                        },
                    )  # fmt: skip
                )
    finally:
        client.close()
        cluster.close()
    title = (
        f"blockwise vs whole-volume decode, neuroproof 250^3 oracle maps, {int(whole.max())} "
        f"instances; whole-volume peak {peak_whole:.0f} MB; best of {args.repeats}"
    )
    print_table(title, rows)
    if args.json is not None:
        write_json(args.json, title, rows, {"params": PARAMS, "repeats": args.repeats})
    failed = [r.name for r in rows if not r.passed]
    if failed:
        print(f"agreement check failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
