"""``predict``: a trained checkpoint applied to a whole volume, maps streamed to zarr.

Without a Dask client the volume is predicted in this process, streamed block by block with
every window run once (:func:`volseg.infer.sliding.predict_streamed`); with a client, one task
per output block runs on the cluster (:mod:`volseg.infer.blockwise_predict`) and an
interrupted run resumes the missing blocks. Both give the maps of a whole-volume
sliding-window prediction (to float rounding).

When ``data.train_resolution`` differs from the image's voxel size, the image is resampled to
the network grid on the fly and the maps back to the data grid (:mod:`volseg.infer.rescale`);
in-process runs keep the network-grid maps in a temporary zarr beside the output meanwhile.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.infer.carry import CarryStore
from volseg.infer.grid import Region, window_blocks
from volseg.infer.output import (
    discard_output,
    done_array,
    drop_netmaps,
    netmaps_array,
    output_chunks,
    prepare_output,
    writable_array,
)
from volseg.infer.plan import (
    PredictionPlan,
    check_model_config,
    image_reader,
    make_plan,
    pick_device,
    to_stored,
)
from volseg.infer.sliding import predict_streamed
from volseg.io import mark_complete, open_volume
from volseg.io.blocks import iter_blocks
from volseg.io.paths import locate_for_write
from volseg.io.volume import Volume
from volseg.io.voxels import agreed_voxel_size
from volseg.lock import locks_output

log = logging.getLogger(__name__)


def _config(cfg: Any) -> Any:
    if isinstance(cfg, str | os.PathLike):
        from volseg.config import load

        return load(cfg)
    return cfg


def open_image(cfg: Any, image: Any) -> tuple[Volume, str]:
    """The image as a lazy ``Volume`` and its name.

    The image's own metadata give its voxel size; ``inference.voxel_size`` fills in for a file
    without any and must agree with one that has some. The config's ``data.voxel_size``
    describes the training data only and never applies here.
    """
    given = cfg.inference.voxel_size
    if isinstance(image, Volume):
        name = image.path or "<in-memory image>"
        if given is not None:
            size = agreed_voxel_size(image, given, key="inference.voxel_size")
            image = dataclasses.replace(image, voxel_size=size)
        return image, name
    volume = open_volume(image)
    if volume.ndim not in (3, 4):
        dims = int(getattr(cfg.model, "spatial_dims", 3) or 3)
        volume.close()
        raise VolsegError(
            f"{image} is a {volume.ndim}D image of shape {tuple(volume.shape)}; the model (a "
            f"{dims}D network) segments volumes, (z, y, x) or (c, z, y, x): stack the slices "
            "into one (a folder of tif slices opens as one)."
        )
    size = agreed_voxel_size(volume, given, key="inference.voxel_size")
    if size is None:
        volume.close()
        raise VolsegError(
            f"{image} records no voxel size; give it as inference.voxel_size=[z,y,x] (nm) "
            "(the config's data.voxel_size describes the training data only)."
        )
    volume.voxel_size = size
    text = os.fspath(image)
    return volume, text if "://" in text else os.path.abspath(text)


def _block_shape(cfg: Any, block_shape: Sequence[int] | None) -> tuple[int, int, int]:
    value = tuple(int(b) for b in (block_shape or cfg.inference.block_shape))
    if len(value) != 3 or min(value) < 1:
        raise VolsegError(f"block_shape must be three positive integers, got {list(value)}.")
    return value  # type: ignore[return-value]


def _training_targets(ckpt: dict[str, Any]) -> Any:
    """The checkpoint's ``data.label_transform.targets`` (None for a checkpoint without them)."""
    data = (ckpt.get("config") or {}).get("data") or {}
    return (data.get("label_transform") or {}).get("targets")


@locks_output("out")
def predict(
    cfg: Any,
    checkpoint: str | os.PathLike[str],
    image: Any,
    out: str | os.PathLike[str],
    *,
    client: Any = None,
    block_shape: Sequence[int] | None = None,
    overwrite: bool = False,
    say: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Volume:
    """Predict maps ``(c, z, y, x)`` of ``image`` into the zarr node ``out``.

    Args:
        cfg: resolved config (``volseg.config.load``) or the path of a YAML file.
        checkpoint: a volseg checkpoint whose ``model`` section matches ``cfg.model``.
        image: path of a ``(z, y, x)`` or ``(c, z, y, x)`` image, or a ``Volume``.
        out: output zarr (``pred.zarr`` or ``store.zarr/maps``).
        client: a ``distributed.Client`` for a blockwise run (resumable); ``None`` predicts
            in this process.
        block_shape: block size in voxels (default ``inference.block_shape``).
        overwrite: replace an existing output; without it an unfinished output of the same
            settings is resumed (its finished blocks are kept).
        say: gets one line with the blocks computed and reused (default: the log).
        progress: in-process runs only: called with ``(windows run, windows to run)`` after
            every sliding window (see :func:`volseg.infer.sliding.predict_streamed`).

    Returns:
        The finished maps, opened lazily (float32, or uint8 with the ``volseg_maps`` record).

    Raises:
        VolsegError: a checkpoint not matching the config, an image with the wrong number of
            channels, an existing output, an unwritable output, another process writing
            ``out``.
    """
    from volseg.checkpoint import build_model_from_checkpoint, load_checkpoint
    from volseg.io.guard import refuse_overlap

    refuse_overlap(out, {"image": image, "checkpoint": checkpoint})
    if progress is not None and client is not None:
        raise VolsegError("progress reports need an in-process prediction (client=None).")

    cfg = _config(cfg)
    ckpt = load_checkpoint(checkpoint)
    check_model_config(cfg.model, ckpt["model_cfg"], str(checkpoint))
    volume, name = open_image(cfg, image)
    blocks = _block_shape(cfg, block_shape)
    if client is None:
        device = pick_device(int(cfg.system.inference.num_gpus))
    else:
        from volseg.infer.blockwise_predict import cluster_device

        if isinstance(image, Volume) and not image.path:
            raise VolsegError("a blockwise prediction needs the image as a path workers can open.")
        device = cluster_device(client, int(cfg.system.inference.num_gpus))
    model = build_model_from_checkpoint(checkpoint, map_location="cpu")
    plan = make_plan(
        cfg,
        checkpoint=checkpoint,
        ckpt_model=ckpt["model_cfg"],
        model=model,
        volume=volume,
        image=name,
        device=device,
        targets=_training_targets(ckpt),
    )
    chunks = output_chunks(plan, cfg.inference.save_prediction.chunks, blocks)
    prepare_output(out, plan, chunks=chunks, offset=volume.offset, overwrite=overwrite)
    if client is None:
        try:
            computed, reused = run_streamed(
                model.to(device), plan, volume, out, block_shape=blocks, progress=progress
            )
        except VolsegError:  # bad input found while reading: leave nothing half-written
            discard_output(out)
            raise
    else:
        from volseg.infer.blockwise_predict import run_blockwise

        computed, reused = run_blockwise(client, plan, out, block_shape=blocks)
    (say or log.info)(f"prediction blocks: {computed} computed, {reused} reused")
    mark_complete(out)
    return open_volume(out)


def _scratch_dir(out: Any) -> Path:
    parent = locate_for_write(out).target.parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


class BackgroundWriter:
    """Store maps regions from a thread, so compression and disk writes overlap prediction.

    One thread writes in submission order (regions sharing a chunk never race); at most
    ``depth`` writes wait, which bounds the memory they hold. Errors surface on the next call
    or on ``close``; after one, nothing more runs (so no completion record follows a write
    that failed).
    """

    def __init__(self, array: Any, convert: Callable[[np.ndarray], np.ndarray], depth: int = 2):
        self.array, self.convert, self.depth = array, convert, depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="volseg-writer")
        self._pending: deque[Future[None]] = deque()
        self._failed = False

    def _run(self, action: Callable[[], None]) -> None:
        if self._failed:
            raise RuntimeError("skipped after an earlier write failed")
        try:
            action()
        except BaseException:
            self._failed = True
            raise

    def _write(self, region: Region, maps: np.ndarray) -> None:
        self.array[(slice(None), *region)] = self.convert(maps)

    def __call__(self, region: Region, maps: np.ndarray) -> None:
        self.then(lambda: self._write(region, maps))

    def then(self, action: Callable[[], None]) -> None:
        """Run ``action`` on the writer thread once every write submitted before it is done."""
        while len(self._pending) >= self.depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._run, action))

    def close(self) -> None:
        """Wait for every write (raising the first error)."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        else:  # already failing: stop quietly, the first error is the one to report
            self._pool.shutdown(wait=True, cancel_futures=True)


def run_streamed(
    model: Any,
    plan: PredictionPlan,
    volume: Volume,
    out: Any,
    *,
    block_shape: Sequence[int],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Predict in this process, block by block, into the maps node ``out`` (made already).

    Every block of whole windows sets its marker in ``volseg_done`` once its maps are
    written, so a rerun of an interrupted prediction writes only the blocks without one (and
    runs only the windows those need). Returns ``(blocks written, blocks reused)``.
    With a rescale the network-grid maps wait in ``out``'s ``volseg_netmaps`` array (the
    markers count its blocks) and are resampled to the data grid at the end.
    """
    target = writable_array(out)
    read = image_reader(plan, volume)
    carry = CarryStore(spill_dir=_scratch_dir(out))
    counts = window_blocks(plan.grid, block_shape).shape
    markers = done_array(out, counts, unit="windows")
    done = {tuple(int(i) for i in idx) for idx in np.argwhere(np.asarray(markers[...]) == 1)}
    net = target if plan.rescale.identity else netmaps_array(out, plan)
    convert = (lambda maps: to_stored(maps, plan)) if net is target else (lambda maps: maps)
    with BackgroundWriter(net, convert) as write:

        def finished(block: tuple[int, int, int]) -> None:
            write.then(lambda: markers.__setitem__(block, 1))

        predict_streamed(
            model, read, write, grid=plan.grid, settings=plan.settings,
            block_shape=block_shape, carry=carry, done=done, finished=finished,
            progress=progress,
        )  # fmt: skip
    if net is not target:
        for region in iter_blocks(plan.spatial_shape, block_shape):
            support = plan.rescale.maps_support(region)
            maps = plan.rescale.maps_to_data(net[(slice(None), *support)], support, region)
            target[(slice(None), *region)] = to_stored(maps, plan)
        drop_netmaps(out)
    total = int(np.prod(counts))
    return total - len(done), len(done)
