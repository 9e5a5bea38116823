"""Sliding-window prediction in memory or streamed block by block, equal to MONAI's.

Windows lie on the global grid of :mod:`volseg.infer.grid`; each window's activated (and
TTA-ensembled) prediction is weighted by the importance map and summed, and the sum is divided
by the summed weights, as ``monai.inferers.sliding_window_inference`` does. The windows
themselves run in :mod:`volseg.infer.windows`, with MONAI's batch sizes.

:func:`predict_streamed` runs the windows in blocks of whole windows (raster order) and keeps
only the current block's sums in memory: a block's own voxels are final as soon as it has run
(windows only reach forward), and the parts its windows add to later blocks wait in a
:class:`~volseg.infer.carry.CarryStore` (spilled to disk above a memory budget). Every window
runs exactly once, so streaming costs no extra network evaluations, and peak memory depends on
the window and block sizes, not on the volume.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from volseg.errors import VolsegError
from volseg.infer.carry import CarryStore
from volseg.infer.grid import Region, Start, WindowBlocks, WindowGrid, make_grid, window_blocks
from volseg.infer.tta import TTA
from volseg.infer.windows import (
    Accumulator,
    SlidingSettings,
    pad_crop,
    run_windows,
    shift,
    tail_predictions,
    weight_tensor,
    within,
)
from volseg.progress import track

__all__ = ["SlidingSettings", "predict_array", "predict_streamed"]


def _check_image(image: Any) -> tuple[int, ...]:
    shape = tuple(int(s) for s in image.shape)
    if len(shape) != 4:
        raise VolsegError(
            f"sliding-window prediction needs a (c, z, y, x) image, got shape {shape}."
        )
    return shape


@torch.no_grad()
def predict_streamed(
    model: Any,
    read: Callable[[Region], np.ndarray],
    write: Callable[[Region, np.ndarray], None],
    *,
    grid: WindowGrid,
    settings: SlidingSettings,
    block_shape: Sequence[int] | None,
    carry: CarryStore | None = None,
    done: Collection[Start] = frozenset(),
    finished: Callable[[Start], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Predict a volume block by block; each block's final maps go to ``write``.

    Args:
        model: the network (put in eval mode here).
        read: returns the image ``(c, ...)`` float32 on a region of the (unpadded) volume.
        write: receives ``(region, maps (C, ...))`` in volume coordinates; the regions tile
            the volume exactly once, in raster order of blocks.
        grid: the window grid of the volume.
        settings: sliding-window settings.
        block_shape: about how many voxels a block spans (rounded to whole windows);
            ``None`` = the whole volume in one block.
        carry: where sums for later blocks wait (default: in memory, spilled to a temporary
            directory above 64 MiB).
        done: blocks (of :func:`volseg.infer.grid.window_blocks`) whose maps an earlier,
            interrupted run wrote: they are not written again, and their windows run only when
            they add to a block not done (in the same order and batches, so the resumed maps
            equal an uninterrupted run's bit for bit).
        finished: called with each block after its ``write`` (resume records).
        progress: called with ``(windows run, windows to run)`` after every window (for
            progress bars; an exception raised in it stops the prediction).

    Returns:
        The number of blocks of ``done`` that needed no window run.
    """
    model.eval()
    weights = weight_tensor(settings)
    window = tuple(weights.shape)
    blocks = window_blocks(grid, block_shape)
    store = carry if carry is not None else CarryStore()
    open_blocks: dict[Start, tuple[Accumulator, list[int]]] = {}
    skipped = 0

    def needed(block: Start, cover: Region) -> bool:
        return block not in done or any(t not in done for t, _ in blocks.split(cover))

    def items() -> Iterator[tuple[Start, Start, torch.Tensor]]:
        # Blocks are read lazily, as the batches reach them (a batch may span two blocks).
        nonlocal skipped
        for block in blocks:
            ranges = blocks.ranges(block)
            cover = grid.cover(ranges)
            if not needed(block, cover):
                skipped += 1
                bar.advance(len(grid.windows(ranges)))
                continue
            image = torch.from_numpy(pad_crop(read, grid, cover, settings.padding_mode))
            starts = grid.windows(ranges)
            open_blocks[block] = (Accumulator(cover, weights), [len(starts)])
            origin = [c.start for c in cover]
            for st in starts:
                yield block, st, image[(slice(None), *shift(st, window, origin))]

    counts = {b: len(grid.windows(blocks.ranges(b))) for b in blocks}
    # the callback counts the windows still to run; the bar counts finished blocks' as done
    total = sum(n for b, n in counts.items() if needed(b, grid.cover(blocks.ranges(b))))
    if progress is not None:
        progress(0, total)
    known = tail_predictions(model, read, grid, settings)
    with store, track("predict: windows", sum(counts.values())) as bar:
        run = 0
        for block, start, pred in run_windows(model, items(), settings=settings, known=known):
            bar.advance()
            acc, left = open_blocks[block]
            acc.add(start, pred)
            if progress is not None:
                run += 1
                progress(run, total)
            left[0] -= 1
            if left[0] == 0:
                del open_blocks[block]
                if block in done:  # written by an earlier run: only pass its sums on
                    _finish_block(blocks, block, acc, store, None)
                    continue
                _finish_block(blocks, block, acc, store, write)
                if finished is not None:
                    finished(block)
    return skipped


def _finish_block(
    blocks: WindowBlocks,
    block: Start,
    acc: Accumulator,
    store: CarryStore,
    write: Callable[[Region, np.ndarray], None] | None,
) -> None:
    """Hand the block's sums for later blocks to ``store``; write its own, now final, voxels
    (``write`` None: a block an earlier run wrote, whose sums are only passed on)."""
    both = acc.numpy()
    origin = [c.start for c in acc.region]
    for target, piece in blocks.split(acc.region):
        part = both[(slice(None), *within(piece, origin))]
        if target != block:
            store.put(target, piece, part)
            continue
        earlier_pieces = store.pop(block)
        if write is None:
            continue
        for where, earlier in earlier_pieces:
            part[(slice(None), *within(where, [p.start for p in piece]))] += earlier
        _write_final(write, blocks.grid, piece, part)


def _write_final(
    write: Callable[[Region, np.ndarray], None], grid: WindowGrid, piece: Region, own: np.ndarray
) -> None:
    volume = grid.to_volume(piece)
    if any(v.stop <= v.start for v in volume):
        return  # padding only
    inner = tuple(
        slice(v.start + p - s.start, v.stop + p - s.start)
        for v, p, s in zip(volume, grid.pad_before, piece, strict=True)
    )
    maps = own[(slice(None, -1), *inner)] / own[(slice(-1, None), *inner)]
    write(volume, maps.astype(np.float32, copy=False))


def predict_array(
    model: Any,
    image: np.ndarray,
    *,
    window: Sequence[int],
    overlap: float = 0.25,
    sigma_scale: float = 0.125,
    blending: str = "gaussian",
    sw_batch_size: int = 1,
    padding_mode: str = "reflect",
    activations: Sequence[str] | None = None,
    tta: TTA | None = None,
    device: str = "cpu",
    amp: str | None = None,
) -> np.ndarray:
    """Sliding-window prediction of an in-memory image.

    Args:
        model: network taking ``(b, c, z, y, x)`` and returning ``(b, C, z, y, x)``.
        image: ``(c, z, y, x)`` or ``(z, y, x)`` array, already normalised.
        window, overlap, sigma_scale, blending, sw_batch_size, padding_mode, activations, tta,
            device, amp: see :class:`SlidingSettings`.

    Returns:
        ``(C, z, y, x)`` float32 maps.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3:
        image = image[None]
    shape = _check_image(image)
    settings = SlidingSettings(
        window=tuple(int(w) for w in window),  # type: ignore[arg-type]
        overlap=overlap,
        sigma_scale=sigma_scale,
        blending=blending,
        sw_batch_size=sw_batch_size,
        padding_mode=padding_mode,
        activations=None if activations is None else tuple(activations),
        tta=tta,
        device=device,
        amp=amp,
    )
    grid = make_grid(shape[1:], settings.window, overlap)
    out: np.ndarray | None = None

    def write(region: Region, maps: np.ndarray) -> None:
        nonlocal out
        if out is None:
            out = np.empty((maps.shape[0], *shape[1:]), dtype=np.float32)
        out[(slice(None), *region)] = maps

    predict_streamed(
        model,
        lambda region: image[(slice(None), *region)],
        write,
        grid=grid,
        settings=settings,
        block_shape=None,
    )
    assert out is not None
    return out
