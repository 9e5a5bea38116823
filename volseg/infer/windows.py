"""The window engine: settings, MONAI-style padding, batched forward passes, weighted sums.

Shared by every prediction mode: :mod:`volseg.infer.sliding` (in memory, streamed) and
:mod:`volseg.infer.blockwise_predict` (one Dask task per block). A window's maps depend only on
its image and on the batch size it ran with; :func:`run_windows` fixes those batch sizes to
MONAI's, so every mode computes every window identically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from volseg.errors import VolsegError
from volseg.geometry import Box, triple
from volseg.infer.grid import Region, Start, WindowGrid, importance_map
from volseg.infer.tta import TTA, predict_views

PADDING_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


@dataclass(frozen=True)
class SlidingSettings:
    """Everything that decides a sliding-window prediction besides the model and the image.

    Attributes:
        window: window shape (z, y, x) on the network grid.
        overlap: fraction of the window shared with each neighbour, in [0, 1).
        sigma_scale: Gaussian sigma as a fraction of the window (gaussian blending).
        blending: ``gaussian`` or ``constant``.
        sw_batch_size: windows per forward pass.
        padding_mode: ``constant`` (zeros), ``reflect`` or ``replicate`` for axes shorter
            than the window.
        activations: per-channel ``sigmoid`` / ``tanh`` / ``identity``; ``None`` = raw output.
        tta: test-time augmentation, or ``None``.
        device: torch device for the network and the sums.
        amp: autocast on CUDA (``float16`` or ``bfloat16``); ``None`` or the CPU: float32.
    """

    window: Start
    overlap: float = 0.25
    sigma_scale: float = 0.125
    blending: str = "gaussian"
    sw_batch_size: int = 1
    padding_mode: str = "reflect"
    activations: tuple[str, ...] | None = None
    tta: TTA | None = None
    device: str = "cpu"
    amp: str | None = None

    def __post_init__(self) -> None:
        if self.padding_mode not in PADDING_MODES:
            raise VolsegError(
                f"inference.sliding_window.padding_mode must be one of "
                f"{', '.join(PADDING_MODES)}, got {self.padding_mode!r}."
            )
        if self.amp not in (None, "float16", "bfloat16"):
            raise VolsegError(f"amp must be float16, bfloat16 or None, got {self.amp!r}.")
        if self.sw_batch_size < 1:
            raise VolsegError(f"sw_batch_size must be >= 1, got {self.sw_batch_size}.")


def pad_crop(
    read: Callable[[Region], np.ndarray], grid: WindowGrid, region: Region, mode: str
) -> np.ndarray:
    """Read ``region`` (padded coordinates) of the image as ``(c, ...)``, padding like MONAI.

    Only axes shorter than the window are padded; they are read whole and padded with
    ``numpy.pad`` (``reflect`` = torch's reflect, ``replicate`` = numpy's ``edge``).
    """
    padded = [a for a in range(3) if grid.pad_before[a] or grid.pad_after[a]]
    if not padded:
        return read(region)
    z, y, x = (
        slice(0, grid.shape[a]) if a in padded else s for a, s in enumerate(grid.to_volume(region))
    )
    crop = read((z, y, x))
    widths = [(0, 0)] + [
        (grid.pad_before[a], grid.pad_after[a]) if a in padded else (0, 0) for a in range(3)
    ]
    # numpy's reflect also pads beyond the axis length (torch's refuses); below it they agree
    crop = np.pad(crop, widths, mode=PADDING_MODES[mode])
    keep = [slice(None)] + [
        slice(region[a].start, region[a].stop)
        if a in padded
        else slice(0, region[a].stop - region[a].start)
        for a in range(3)
    ]
    return crop[tuple(keep)]


def _forward(model: Any, crops: list[torch.Tensor], settings: SlidingSettings) -> torch.Tensor:
    device = torch.device(settings.device)
    x = torch.stack(crops)
    on_gpu = device.type == "cuda"
    x = x.pin_memory().to(device, non_blocking=True) if on_gpu else x.to(device)
    amp = getattr(torch, settings.amp) if settings.amp and on_gpu else None
    with torch.autocast("cuda", dtype=amp) if amp is not None else nullcontext():
        y = predict_views(model, x, tta=settings.tta, activations=settings.activations)
    if tuple(y.shape[2:]) != tuple(x.shape[2:]):
        raise VolsegError(
            f"the model returned spatial shape {tuple(y.shape[2:])} for a window of "
            f"{tuple(x.shape[2:])}; sliding-window prediction needs same-size outputs."
        )
    return y.float()


def run_windows(
    model: Any,
    items: Iterable[tuple[Any, Start, torch.Tensor]],
    *,
    settings: SlidingSettings,
    known: Mapping[Start, torch.Tensor] | None = None,
) -> Iterator[tuple[Any, Start, torch.Tensor]]:
    """Predict a stream of ``(tag, start, window (c, z, y, x))``, yielding ``(tag, start,
    maps)``; windows whose start is in ``known`` are not run again.

    Batch sizes are fixed so that a window's maps never depend on how the volume is cut into
    blocks (CPU convolution kernels round differently for different batch sizes: about 1e-6,
    up to 1e-5 after tanh): windows go ``sw_batch_size`` at a time across whatever produced
    them, a last partial batch is padded by repeating its last window, and the grid's last
    windows that MONAI runs as a smaller batch come precomputed in ``known``
    (:func:`tail_predictions`).
    """
    known = known or {}
    size = settings.sw_batch_size
    batch: list[tuple[Any, Start, torch.Tensor]] = []

    def flush() -> Iterator[tuple[Any, Start, torch.Tensor]]:
        crops = [c for _, _, c in batch] + [batch[-1][2]] * (size - len(batch))
        y = _forward(model, crops, settings)
        for (tag, start, _), pred in zip(batch, y, strict=False):
            yield tag, start, pred

    for tag, start, crop in items:
        if start in known:
            yield tag, start, known[start]
            continue
        batch.append((tag, start, crop))
        if len(batch) == size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def tail_windows(grid: WindowGrid, batch_size: int) -> list[Start]:
    """The grid's last ``size % batch_size`` windows in C order: MONAI's last, smaller batch."""
    count = grid.size % batch_size
    if not count:
        return []
    rz, ry, rx = grid.all_ranges()
    starts = grid.windows((rz[-1:], ry[-1:], rx))
    if len(starts) < count:  # the tail reaches into earlier rows: enumerate them all
        starts = grid.windows(grid.all_ranges())
    return starts[-count:]


def tail_predictions(
    model: Any, read: Callable[[Region], np.ndarray], grid: WindowGrid, settings: SlidingSettings
) -> dict[Start, torch.Tensor]:
    """Maps of the :func:`tail_windows`, run together as one batch like MONAI does."""
    tail = tail_windows(grid, settings.sw_batch_size)
    if not tail:
        return {}
    crops = []
    for start in tail:
        region = Box(start, grid.window).slices
        crops.append(torch.from_numpy(pad_crop(read, grid, region, settings.padding_mode)))
    return dict(zip(tail, _forward(model, crops, settings), strict=True))


class Accumulator:
    """Weighted sums of window predictions over a region (padded coordinates)."""

    def __init__(self, region: Region, weights: torch.Tensor) -> None:
        self.region = region
        self.weights = weights
        self.sums: torch.Tensor | None = None
        shape = tuple(s.stop - s.start for s in region)
        self.wsum = torch.zeros(shape, dtype=torch.float32, device=weights.device)

    def add(self, start: Start, pred: torch.Tensor) -> None:
        """Add ``pred * weights`` of the window at ``start``, cut to the region."""
        if self.sums is None:
            self.sums = torch.zeros((pred.shape[0], *self.wsum.shape), device=self.wsum.device)
        src, dst = [], []
        for s, w, r in zip(start, self.weights.shape, self.region, strict=True):
            lo, hi = max(s, r.start), min(s + w, r.stop)
            if hi <= lo:
                return
            src.append(slice(lo - s, hi - s))
            dst.append(slice(lo - r.start, hi - r.start))
        weights = self.weights[tuple(src)]
        self.sums[(slice(None), *dst)] += pred[(slice(None), *src)] * weights
        self.wsum[tuple(dst)] += weights

    def numpy(self) -> np.ndarray:
        """Sums with the weight sums appended as the last channel, ``(C + 1, ...)``."""
        if self.sums is None:
            raise VolsegError(f"no sliding windows touch the region {self.region}.")
        return torch.cat([self.sums, self.wsum[None]]).cpu().numpy()


def accumulate(
    model: Any,
    image: np.ndarray,
    origin: Sequence[int],
    starts: Sequence[Start],
    region: Region,
    *,
    weights: torch.Tensor,
    settings: SlidingSettings,
    known: Mapping[Start, torch.Tensor] | None = None,
) -> np.ndarray:
    """Weighted sums of the windows ``starts`` over ``region`` (padded coordinates).

    Args:
        model: the network (eval mode).
        image: ``(c, ...)`` float32 image whose first voxel lies at ``origin`` (padded
            coordinates) and which contains every window in ``starts``.
        origin: padded coordinates of ``image[:, 0, 0, 0]``.
        starts: window starts (padded coordinates).
        region: where to accumulate; windows are cut to it.
        weights: the importance map of one window, on ``settings.device``.
        settings: sliding-window settings.
        known: maps of windows computed already (see :func:`run_windows`).

    Returns:
        ``(C + 1, *region)``: the weighted sums, then the summed weights.
    """
    source = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
    window = tuple(weights.shape)
    items = ((st, st, source[(slice(None), *shift(st, window, origin))]) for st in starts)
    acc = Accumulator(region, weights)
    for _, start, pred in run_windows(model, items, settings=settings, known=known):
        acc.add(start, pred)
    return acc.numpy()


def weight_tensor(settings: SlidingSettings) -> torch.Tensor:
    """The importance map of ``settings`` as a tensor on its device."""
    w = importance_map(
        settings.window, blending=settings.blending, sigma_scale=settings.sigma_scale
    )
    return torch.from_numpy(w).to(settings.device)


def shift(start: Sequence[int], size: Sequence[int], origin: Sequence[int]) -> Region:
    """The box ``start + size`` relative to ``origin``."""
    return Box(triple(start), triple(size)).shift([-o for o in origin]).slices


def within(region: Region, origin: Sequence[int]) -> Region:
    """``region`` relative to ``origin``."""
    return Box.from_slices(region).shift([-o for o in origin]).slices
