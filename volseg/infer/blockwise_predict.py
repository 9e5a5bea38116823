"""Blockwise prediction on Dask: one task per output block, resumable.

Each task writes one block of the output (whole chunks, so tasks never share a chunk) and
reads the block plus the context every window touching it needs: it runs exactly the windows
of the global grid that overlap the block (the read region is their bounding box), so its
voxels equal those of a whole-volume prediction. Windows near block faces run once per block
they touch; blocks much larger than the window keep that overhead small.

A worker loads the model once (a per-process cache keyed by checkpoint path, modification
time and device) and opens the image once. Blocks run through
:func:`volseg.infer.run_blocks.run_blocks`: a finished block sets its marker in the output's
``volseg_done`` array (one chunk per block, written after the maps), so a rerun computes only
blocks without a marker. Tasks ask for a ``GPU`` resource when the prediction runs on CUDA.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from volseg.errors import VolsegError
from volseg.geometry import BlockGrid, Box, Slices
from volseg.infer.output import done_array, done_records, writable_array
from volseg.infer.plan import PredictionPlan, image_reader, to_stored
from volseg.infer.run_blocks import BlockCounts, run_blocks
from volseg.infer.windows import (
    accumulate,
    pad_crop,
    tail_predictions,
    tail_windows,
    weight_tensor,
)
from volseg.io.paths import locate_for_write
from volseg.io.volume import Volume

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, int, str], Any] = {}
_VOLUMES: dict[tuple[str, tuple[float, ...]], Volume] = {}
_OUTPUTS: dict[tuple[str, int], Any] = {}
#: Models this process has loaded (the worker-level cache means one per checkpoint).
LOADS: list[str] = []


def cached_model(checkpoint: str, device: str) -> Any:
    """The network of ``checkpoint`` on ``device``, loaded once per process."""
    from volseg.checkpoint import build_model_from_checkpoint

    key = (checkpoint, os.stat(checkpoint).st_mtime_ns, device)
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = build_model_from_checkpoint(checkpoint, map_location="cpu").to(device)
            LOADS.append(checkpoint)
        return _MODELS[key]


def cached_volume(image: str, voxel_size: Sequence[float]) -> Volume:
    """The image opened lazily once per process (h5 handles cannot travel between processes)."""
    from volseg.io import open_volume

    key = (image, tuple(voxel_size))
    with _LOCK:
        if key not in _VOLUMES:
            _VOLUMES[key] = open_volume(image, voxel_size=tuple(voxel_size))
        return _VOLUMES[key]


def cached_output(out: str) -> Any:
    """The maps array of ``out``, opened once per process (per store: an output replaced at
    the same path is a new directory, hence a new inode)."""
    loc = locate_for_write(out)
    node = loc.target.joinpath(*loc.key.split("/")) if loc.key else loc.target
    key = (out, os.stat(node).st_ino)
    with _LOCK:
        if key not in _OUTPUTS:
            _OUTPUTS[key] = writable_array(out)
        return _OUTPUTS[key]


@torch.no_grad()
def predict_region(
    model: Any, plan: PredictionPlan, volume: Volume, region: Box | Slices
) -> np.ndarray:
    """Float32 maps ``(C, ...)`` of ``region`` (data grid) from every window touching it."""
    model.eval()
    if isinstance(region, Box):
        region = region.slices
    net_region = plan.rescale.maps_support(region)
    padded = plan.grid.to_padded(net_region)
    ranges = plan.grid.touching(padded)
    cover = plan.grid.cover(ranges)
    read = image_reader(plan, volume)
    image = pad_crop(read, plan.grid, cover, plan.settings.padding_mode)
    starts = plan.grid.windows(ranges)
    tail = tail_windows(plan.grid, plan.settings.sw_batch_size)
    needs_tail = bool(set(tail) & set(starts))
    both = accumulate(
        model,
        image,
        [c.start for c in cover],
        starts,
        padded,
        weights=weight_tensor(plan.settings),
        settings=plan.settings,
        known=tail_predictions(model, read, plan.grid, plan.settings) if needs_tail else None,
    )
    maps = both[:-1] / both[-1:]
    return plan.rescale.maps_to_data(maps, net_region, region)


def predict_block(plan: PredictionPlan, out: str, block_shape: Sequence[int], block_id: int) -> int:
    """Block task: predict the block with flat id ``block_id`` and write it (its done marker
    is set by :func:`~volseg.infer.run_blocks.run_blocks` once this returns)."""
    device = worker_device(plan.settings.device)
    if device != plan.settings.device:
        plan = dataclasses.replace(plan, settings=dataclasses.replace(plan.settings, device=device))
    model = cached_model(plan.checkpoint, device)
    volume = cached_volume(plan.image, plan.voxel_size)
    region = BlockGrid.make(plan.spatial_shape, block_shape).block(block_id).write
    maps = predict_region(model, plan, volume, region)
    cached_output(out)[(slice(None), *region.slices)] = to_stored(maps, plan)
    return 0


def worker_device(device: str) -> str:
    """``cuda`` on a machine with several GPUs: this worker's own one (local workers are named
    0, 1, ...; others are spread by a hash of their name)."""
    if device != "cuda" or torch.cuda.device_count() < 2:
        return device
    from distributed import get_worker

    try:
        name = get_worker().name
    except ValueError:  # not inside a worker
        return device
    index = int(name) if str(name).isdigit() else zlib.crc32(str(name).encode())
    return f"cuda:{index % torch.cuda.device_count()}"


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def cluster_device(client: Any, num_gpus: int) -> str:
    """``cuda`` when every worker sees a GPU (and offers a ``GPU`` resource), else ``cpu``."""
    if num_gpus == 0:
        return "cpu"
    seen = client.run(_cuda_available)
    if not seen:
        raise VolsegError("the Dask cluster has no workers; start some before predicting.")
    if all(seen.values()):
        workers = client.scheduler_info().get("workers", {})
        lacking = [w for w, info in workers.items() if "GPU" not in (info.get("resources") or {})]
        if lacking:
            raise VolsegError(
                f"Dask worker {lacking[0]} sees a GPU but offers no 'GPU' resource; start GPU "
                "workers with `--resources GPU=1` (or set system.inference.num_gpus=0)."
            )
        return "cuda"
    if num_gpus > 0:
        raise VolsegError(
            f"system.inference.num_gpus is {num_gpus} but not every Dask worker sees a GPU."
        )
    return "cpu"


def _absolute(path: Any) -> str:
    text = os.fspath(path)
    return text if "://" in text else os.path.abspath(text)


def run_blockwise(
    client: Any, plan: PredictionPlan, out: Any, *, block_shape: Sequence[int]
) -> BlockCounts:
    """Predict every block without a done marker on the cluster; returns how many blocks
    were computed and how many reused (also recorded as ``blockwise_result`` in the node's
    attributes).

    Raises:
        VolsegError: a task failed (its message is kept) or blocks are still missing.
    """
    out = _absolute(out)
    plan = _with_absolute_image(plan)
    grid = BlockGrid.make(plan.spatial_shape, block_shape)
    done_array(out, grid.grid_shape)
    resources = {"GPU": 1} if plan.settings.device == "cuda" else None
    shared = client.scatter(plan, broadcast=True)
    counts = run_blocks(
        range(len(grid)), predict_block, done_records(out),
        args=(shared, out, grid.block_shape), client=client, resources=resources,
        label="predict: blocks",
    )  # fmt: skip
    _record_result(out, {
        "blocks": len(grid), "blocks_computed": counts.computed, "blocks_reused": counts.reused,
    })  # fmt: skip
    return counts


def _record_result(out: str, result: dict[str, int]) -> None:
    import zarr

    loc = locate_for_write(out)
    group: Any = zarr.open_group(str(loc.target), path=loc.key or "", mode="r+")
    group.attrs["volseg"] = {**(group.attrs.get("volseg") or {}), "blockwise_result": result}


def _with_absolute_image(plan: PredictionPlan) -> PredictionPlan:
    return dataclasses.replace(plan, image=_absolute(plan.image))
