"""Benchmark: memory per decode worker as the volume grows, and a killed-and-rerun decode.

Maps: oracle maps (binary, both-sides boundary, instance EDT) of synthetic vesicles
(``volseg.data.synth.vesicles``, 30 x 8 x 8 nm), generated tile by tile (64 x 256 x 256,
a new seed per tile) and written as volseg uint8 maps, so no process ever holds the volume.
Volumes of 1, 4 and 8 tiles. Decode: ``contour_distance`` with its defaults (the seeded
route: global seeds, flood rounds), blocks of 32 x 128 x 128 with the default halo, on a
fresh ``LocalCluster`` of 2 worker processes (one thread each) per size. Reported: the
largest peak resident set of a worker (``ru_maxrss``), the driver's peak, and the time;
the bar is a flat worker peak (8x within 1.25x of 1x).

Kill and rerun: the 4x decode runs in a child process that starts its own ``LocalCluster``
(the scheduler lives in that process); it gets SIGKILL once half the blocks have a flood
state (its worker processes go with its process group). A second child
reruns the same call on the unfinished output. Check: the labels are identical, element for
element, to those of an uninterrupted run, and the rerun reports the finished seed blocks and
flood blocks it reused instead of recomputing.

This measures decoding only; ``benchmarks/segment_scale.py`` measures ``volseg segment
--cluster local:2`` (prediction included) on tiled synthetic images up to 8x a unit volume
(8x = 512 x 1024 x 1024 with ``--unit 256,512,512``) and kills and reruns it.

    python benchmarks/blockwise_scale.py [--json results.json] [--tiles 1 4 8]
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from _common import parser

TILE = (64, 256, 256)
VOXEL = (30.0, 8.0, 8.0)
BLOCK = (32, 128, 128)
SPEC = [
    {"name": "binary"},
    {"name": "instance_boundary", "kwargs": {"edge_mode": "seg-all"}},
    {"name": "instance_edt"},
]
LAYOUT = {1: (1, 1, 1), 4: (1, 2, 2), 8: (2, 2, 2)}

RUN = """
import json, resource, sys, time
from distributed import Client, LocalCluster
from volseg.infer.blockwise_decode import blockwise_decode

def peak():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

if __name__ == "__main__":
    maps, out = sys.argv[1], sys.argv[2]
    block = tuple(int(v) for v in sys.argv[3].split(","))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        start = time.perf_counter()
        seg = blockwise_decode(maps, out, block_shape=block, client=client)
        seconds = time.perf_counter() - start
        workers = max(client.run(peak).values())
    print(json.dumps({**seg.attrs["blockwise_result"], "wall_s": seconds,
                      "worker_mb": workers, "driver_mb": peak()}))
"""


def write_maps(path: Path, tiles: int) -> tuple[int, ...]:
    """Oracle maps of ``tiles`` vesicle tiles, one tile in memory at a time."""
    from volseg.data import make_targets
    from volseg.data.synth import vesicles
    from volseg.io import create_volume
    from volseg.maps import quantize

    grid = LAYOUT[tiles]
    shape = tuple(g * t for g, t in zip(grid, TILE, strict=True))
    array = None
    for k, index in enumerate(np.ndindex(*grid)):
        _, labels, _ = vesicles(shape=TILE, voxel_size=VOXEL, seed=k)
        stored, attrs = quantize(
            make_targets(labels, VOXEL, SPEC), ["binary", "boundary", "distance"]
        )
        if array is None:
            array = create_volume(
                path, shape=(3, *shape), dtype=np.uint8, voxel_size=VOXEL,
                chunks=(3, 32, 128, 128), kind="maps", attrs=attrs,
            ).data  # fmt: skip
        region = tuple(slice(i * t, (i + 1) * t) for i, t in zip(index, TILE, strict=True))
        array[(slice(None), *region)] = stored
    return shape


def run(maps: Path, out: Path, **popen) -> subprocess.Popen:
    block = ",".join(map(str, BLOCK))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(RUN), str(maps), str(out), block],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, **popen,
    )  # fmt: skip


def finish(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    if proc.returncode:
        sys.exit(f"decode failed ({proc.returncode}): {out}")
    return json.loads(out.strip().splitlines()[-1])


def kill_and_rerun(maps: Path, tmp: Path) -> dict:
    from volseg.io import open_volume

    whole = finish(run(maps, tmp / "plain.zarr"))
    out = tmp / "killed.zarr"
    proc = run(maps, out, start_new_session=True)
    states = out / "_volseg_blocks" / "flood"
    total = whole["blocks"]
    while proc.poll() is None:
        if states.is_dir() and len(list(states.glob("*.npy.z"))) >= total // 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)  # the scheduler's process
    proc.wait()
    os.killpg(proc.pid, signal.SIGKILL)  # its worker processes
    done = len(list(states.glob("*.npy.z")))
    again = finish(run(maps, out))
    a = open_volume(tmp / "plain.zarr").numpy()
    b = open_volume(out).numpy()
    return {
        "killed_with_flood_states": done, "blocks": total,
        "rerun_seeds_decoded": again["seeds_decoded"],
        "rerun_floods_reused": again["floods_reused"], "rerun_floods": again["blocks_decoded"],
        "plain_floods": whole["blocks_decoded"],
        "identical": bool(np.array_equal(a, b)), "instances": int(b.max()),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--tiles", type=int, nargs="+", default=[1, 4, 8], choices=sorted(LAYOUT))
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="volseg-scale-") as tmp:
        for tiles in args.tiles:
            maps = Path(tmp) / f"maps{tiles}.zarr"
            shape = write_maps(maps, tiles)
            result = finish(run(maps, Path(tmp) / f"seg{tiles}.zarr"))
            rows.append({"tiles": tiles, "shape": shape, **result})
            print(
                f"{tiles}x {shape}: worker peak {result['worker_mb']:.0f} MB, driver peak "
                f"{result['driver_mb']:.0f} MB, {result['wall_s']:.1f} s, "
                f"{result['instances']} instances, {result['rounds']} rounds",
                flush=True,
            )
        kill = kill_and_rerun(Path(tmp) / f"maps{4 if 4 in args.tiles else args.tiles[0]}.zarr",
                              Path(tmp))  # fmt: skip
    print("kill and rerun:", kill)
    flat = rows[-1]["worker_mb"] <= 1.25 * rows[0]["worker_mb"]
    payload = {"block": BLOCK, "tile": TILE, "rows": rows, "kill_and_rerun": kill,
               "worker_peak_flat": flat}  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(payload, indent=2))
    return 0 if flat and kill["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
