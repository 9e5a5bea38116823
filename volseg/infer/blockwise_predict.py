"""Blockwise prediction on Dask: one task per output block, resumable.

Each task writes one block of the output (whole chunks, so tasks never share a chunk) and
reads the block plus the context every window touching it needs: it runs exactly the windows
of the global grid that overlap the block (the read region is their bounding box), so its
voxels equal those of a whole-volume prediction. Windows near block faces run once per block
they touch; blocks much larger than the window keep that overhead small.

A worker loads the model once (a per-process cache keyed by checkpoint path, modification
time and device) and opens the image once. A finished block sets its marker in the output's
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
from volseg.infer.grid import Region
from volseg.infer.output import block_counts, done_array, writable_array
from volseg.infer.plan import PredictionPlan, image_reader, to_stored
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
_OUTPUTS: dict[tuple[str, int, tuple[int, ...]], tuple[Any, Any]] = {}
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


def cached_output(out: str, counts: tuple[int, ...]) -> tuple[Any, Any]:
    """The maps array and the done markers of ``out``, opened once per process (per store:
    an output replaced at the same path is a new directory, hence a new inode)."""
    loc = locate_for_write(out)
    node = loc.target.joinpath(*loc.key.split("/")) if loc.key else loc.target
    key = (out, os.stat(node).st_ino, counts)
    with _LOCK:
        if key not in _OUTPUTS:
            _OUTPUTS[key] = (writable_array(out), done_array(out, counts))
        return _OUTPUTS[key]


@torch.no_grad()
def predict_region(model: Any, plan: PredictionPlan, volume: Volume, region: Region) -> np.ndarray:
    """Float32 maps ``(C, ...)`` of ``region`` (data grid) from every window touching it."""
    model.eval()
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


def block_region(index: Sequence[int], shape: Sequence[int], block_shape: Sequence[int]) -> Region:
    """Voxels of block ``index`` (cut at the volume's end)."""
    return tuple(
        slice(i * b, min((i + 1) * b, n)) for i, b, n in zip(index, block_shape, shape, strict=True)
    )  # type: ignore[return-value]


def predict_block(
    index: tuple[int, int, int], *, plan: PredictionPlan, out: str, block_shape: Sequence[int]
) -> tuple[int, int, int]:
    """Dask task: predict block ``index``, write it, then set its done marker."""
    device = worker_device(plan.settings.device)
    if device != plan.settings.device:
        plan = dataclasses.replace(plan, settings=dataclasses.replace(plan.settings, device=device))
    model = cached_model(plan.checkpoint, device)
    volume = cached_volume(plan.image, plan.voxel_size)
    region = block_region(index, plan.spatial_shape, block_shape)
    maps = predict_region(model, plan, volume, region)
    target, done = cached_output(out, block_counts(plan.spatial_shape, block_shape))
    target[(slice(None), *region)] = to_stored(maps, plan)
    done[index] = 1
    return index


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
) -> tuple[int, int]:
    """Predict every block without a done marker on the cluster; returns ``(blocks computed,
    blocks reused)``.

    Raises:
        VolsegError: a task failed (its message is kept) or blocks are still missing.
    """
    out = _absolute(out)
    plan = _with_absolute_image(plan)
    counts = block_counts(plan.spatial_shape, block_shape)
    marks = np.asarray(done_array(out, counts)[...])
    todo = [tuple(int(i) for i in idx) for idx in np.argwhere(marks == 0)]
    if todo:
        resources = {"GPU": 1} if plan.settings.device == "cuda" else None
        shared = client.scatter(plan, broadcast=True)
        futures = client.map(
            predict_block, todo, plan=shared, out=out, block_shape=tuple(block_shape),
            pure=False, resources=resources,
        )  # fmt: skip
        client.gather(futures)
    missing = int((np.asarray(done_array(out, counts)[...]) == 0).sum())
    if missing:
        raise VolsegError(f"{missing} blocks of {out} were not written; run again to resume.")
    return len(todo), marks.size - len(todo)


def _with_absolute_image(plan: PredictionPlan) -> PredictionPlan:
    return dataclasses.replace(plan, image=_absolute(plan.image))
