"""Everything a prediction needs, decided once from the config, the checkpoint and the image.

:class:`PredictionPlan` is small and picklable: the in-process streamed run and every Dask
task of a blockwise run use the same plan, so they compute the same numbers. It holds the
sliding-window settings, the window grid on the network grid, the resampling between data and
network grids, the image's normalisation statistics (from the whole volume, like training),
the output's dtype and channel names, and the voxel offsets of affinity channels.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.geometry import as_shape
from volseg.infer.grid import Region, WindowGrid, make_grid
from volseg.infer.rescale import Rescale, make_rescale, net_reader
from volseg.infer.tta import tta_from_config
from volseg.infer.windows import SlidingSettings
from volseg.io.volume import Volume

SHOWN = 3
#: ``optimization.precision`` -> autocast dtype for CUDA inference (float32 otherwise).
AMP = {"16-mixed": "float16", "bf16-mixed": "bfloat16"}


@dataclass(frozen=True)
class PredictionPlan:
    """A picklable description of one prediction run (see the module docstring)."""

    checkpoint: str
    image: str
    voxel_size: tuple[float, float, float]
    normalize: str
    stats: dict[str, float]
    settings: SlidingSettings
    grid: WindowGrid
    rescale: Rescale
    channels: tuple[str, ...]
    dtype: str
    in_channels: int
    signature: dict[str, Any] = field(default_factory=dict)
    offsets: tuple[tuple[int, int, int], ...] | None = None

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        return self.rescale.data_shape

    @property
    def out_channels(self) -> int:
        return len(self.channels)


def pick_device(num_gpus: int) -> str:
    """``cuda`` or ``cpu`` from ``system.inference.num_gpus`` (-1 = CUDA when available)."""
    import torch

    if num_gpus == 0:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if num_gpus > 0:
        raise VolsegError(
            f"system.inference.num_gpus is {num_gpus} but no CUDA device is visible; set it to "
            "0 (CPU) or -1 (GPU when available)."
        )
    return "cpu"


def check_model_config(cfg_model: Any, ckpt_model: Mapping[str, Any], checkpoint: str) -> None:
    """Refuse a checkpoint whose network differs from the config's ``model`` section.

    Compared: the keys that shape the network or its outputs (``volseg.models.USED_KEYS`` of
    the architecture, channels, ``multi_task_config``).
    """
    from volseg.models import USED_KEYS
    from volseg.models import _config as C
    from volseg.models.registry import COMMON_KEYS

    arch = C.get(ckpt_model, "architecture")
    keys = ["architecture", "in_channels", "out_channels", "multi_task_config", "spatial_dims"]
    keys += sorted((COMMON_KEYS | USED_KEYS.get(arch, frozenset())) - set(keys))
    keys = [k for k in keys if not k.startswith("deep_supervision")]
    bad = []
    for key in keys:
        mine, theirs = C.get(cfg_model, key), C.get(ckpt_model, key)
        if mine != theirs:
            bad.append(f"model.{key}={theirs!r} in the checkpoint but {mine!r} in the config")
    if bad:
        more = f" (and {len(bad) - SHOWN} more)" if len(bad) > SHOWN else ""
        raise VolsegError(
            f"checkpoint {checkpoint} does not match the config: {'; '.join(bad[:SHOWN])}{more}."
        )


def channel_names(model_cfg: Any) -> tuple[str, ...]:
    """One name per output channel: the target its task learns (``binary``, ``instance_edt``)."""
    from volseg.models import parse_tasks

    tasks = parse_tasks(model_cfg)
    names = [""] * max(t.end for t in tasks)
    for task in tasks:
        names[task.start : task.end] = [task.name] * (task.end - task.start)
    return tuple(names)


def affinity_offsets_of(
    targets: Any, channels: tuple[str, ...], voxel_size: tuple[float, float, float]
) -> tuple[tuple[int, int, int], ...] | None:
    """Voxel offsets of the ``affinity`` output channels (in their order), or None without them.

    Args:
        targets: the training config's ``data.label_transform.targets``.
        channels: one target name per output channel (:func:`channel_names`).
        voxel_size: the network grid, for offsets given in nm.
    """
    from volseg.channels import affinity_offsets
    from volseg.models import _config as C

    if "affinity" not in channels:
        return None
    entries = [e for e in C.plain(targets or []) if isinstance(e, Mapping)]
    kwargs = next((e.get("kwargs") for e in entries if e.get("name") == "affinity"), None)
    offsets = affinity_offsets(kwargs, voxel_size=voxel_size)
    if len(offsets) != channels.count("affinity"):
        raise VolsegError(
            f"the model has {channels.count('affinity')} affinity channels but the training "
            f"targets give {len(offsets)} offsets."
        )
    return offsets


def affinity_pairs(
    channels: tuple[str, ...], offsets: Any
) -> tuple[tuple[int, tuple[int, int, int]], ...]:
    """``(output channel, offset)`` of every affinity channel (for test-time augmentation)."""
    if not offsets:
        return ()
    index = [i for i, name in enumerate(channels) if name == "affinity"]
    return tuple((i, tuple(int(v) for v in o)) for i, o in zip(index, offsets, strict=True))


def check_window(model: Any, window: tuple[int, ...], source: str) -> None:
    """The network must accept the window (its spatial sizes divisible by the down factor)."""
    divisor = getattr(model, "divisor", None)
    dims = getattr(model, "spatial_dims", 3)
    if divisor is None:
        return
    spatial = window[-dims:]
    if any(s % d for s, d in zip(spatial, divisor, strict=True)):
        raise VolsegError(
            f"{source} {list(window)} must be divisible by the network's total down factor "
            f"{list(divisor)} on the {'(y, x)' if dims == 2 else '(z, y, x)'} axes."
        )


def image_channels(volume: Volume, where: str) -> int:
    """Channels of a ``(z, y, x)`` (1) or ``(c, z, y, x)`` image."""
    if volume.ndim == 3:
        return 1
    if volume.ndim == 4:
        return volume.shape[0]
    raise VolsegError(f"{where} must be a (z, y, x) or (c, z, y, x) image, got {volume.shape}.")


def input_fingerprints(checkpoint: Any, image: str) -> dict[str, str | None]:
    """What identifies the checkpoint's and the image's content (:mod:`volseg.io.fingerprint`),
    so an unfinished output is never resumed from inputs replaced under the same paths."""
    from volseg.io.fingerprint import file_fingerprint, fingerprint

    in_memory = image.startswith("<")
    return {
        "checkpoint_fingerprint": file_fingerprint(checkpoint),
        "image_fingerprint": None if in_memory else fingerprint(image),
    }


def make_plan(
    cfg: Any,
    *,
    checkpoint: str | os.PathLike[str],
    ckpt_model: Mapping[str, Any],
    model: Any,
    volume: Volume,
    image: str,
    device: str,
    targets: Any = None,
) -> PredictionPlan:
    """Decide the prediction of ``volume`` with ``model`` (see :class:`PredictionPlan`).

    ``targets`` are the training targets (from the checkpoint's config; ``cfg``'s when None):
    they give the voxel offsets of affinity channels.
    """
    from volseg.data.normalize import image_stats
    from volseg.models import channel_activations

    in_channels = int(ckpt_model.get("in_channels") or 1)
    got = image_channels(volume, image)
    if got != in_channels:
        raise VolsegError(
            f"{image} has {got} channel(s) but the model takes model.in_channels={in_channels}."
        )
    sw = cfg.inference.sliding_window
    window = tuple(int(w) for w in (sw.window_size or cfg.model.input_size))
    source = "inference.sliding_window.window_size" if sw.window_size else "model.input_size"
    check_window(model, window, source)
    channels = channel_names(ckpt_model)
    resolution = cfg.data.train_resolution
    rescale = make_rescale(volume.spatial_shape, volume.voxel_size, resolution)
    offsets = affinity_offsets_of(
        cfg.data.label_transform.targets if targets is None else targets,
        channels,
        rescale.net_voxel,
    )
    if offsets and not rescale.identity:
        raise VolsegError(
            f"{image} is at {list(volume.voxel_size)} nm but the affinity model works at "
            f"data.train_resolution {list(rescale.net_voxel)} nm; affinities do not survive "
            "resampling (each value is a voxel pair of the training grid), so resample the "
            "image to the training grid first."
        )
    tta = tta_from_config(cfg.inference.test_time_augmentation,
                          affinity=affinity_pairs(channels, offsets))  # fmt: skip
    if tta is not None and any(v.k % 2 for v in tta.views) and window[1] != window[2]:
        raise VolsegError(
            f"test_time_augmentation.rotate90 needs a square (y, x) window, got {list(window)}."
        )
    transform = cfg.data.image_transform
    stats: dict[str, float] = {}
    if transform.normalize != "none":
        stats = image_stats(
            volume.data,
            low=float(transform.clip_percentile_low),
            high=float(transform.clip_percentile_high),
            where=image,
        )
    settings = SlidingSettings(
        window=as_shape(window, name=source, low=1),
        overlap=float(sw.overlap),
        sigma_scale=float(sw.sigma_scale),
        blending=str(sw.blending),
        sw_batch_size=int(sw.sw_batch_size),
        padding_mode=str(sw.padding_mode),
        activations=tuple(channel_activations(ckpt_model)),
        tta=tta,
        device=device,
        amp=AMP.get(str(cfg.optimization.precision)) if device == "cuda" else None,
    )
    grid = make_grid(rescale.net_shape, window, settings.overlap)
    dtype = str(cfg.inference.save_prediction.dtype)
    signature = {
        "checkpoint": str(Path(checkpoint).resolve()),
        "image": image,
        "window": list(window),
        "overlap": settings.overlap,
        "sigma_scale": settings.sigma_scale,
        "blending": settings.blending,
        "padding_mode": settings.padding_mode,
        "test_time_augmentation": None
        if tta is None
        else {"views": [[list(v.flips), v.k] for v in tta.views], "ensemble": tta.ensemble},
        "train_resolution": None if resolution is None else [float(r) for r in resolution],
        "normalize": str(transform.normalize),
        "clip_percentiles": [
            float(transform.clip_percentile_low),
            float(transform.clip_percentile_high),
        ],
        "image_stats": {k: float(v) for k, v in stats.items()},
        "dtype": dtype,
        **input_fingerprints(checkpoint, image),
    }
    return PredictionPlan(
        checkpoint=str(Path(checkpoint).resolve()),
        image=image,
        voxel_size=volume.voxel_size,
        normalize=str(transform.normalize),
        stats=stats,
        settings=settings,
        grid=grid,
        rescale=rescale,
        channels=channels,
        dtype=dtype,
        in_channels=in_channels,
        signature=signature,
        offsets=offsets,
    )


def data_reader(plan: PredictionPlan, volume: Volume) -> Callable[[Region], np.ndarray]:
    """Normalised ``(c, ...)`` float32 crops of the image on the data grid."""
    from volseg.data.normalize import normalize

    def read(region: Region) -> np.ndarray:
        index = region if volume.ndim == 3 else (slice(None), *region)
        crop = np.asarray(volume.data[index])
        if volume.ndim == 3:
            crop = crop[None]
        return normalize(crop, plan.stats, mode=plan.normalize)

    return read


def image_reader(plan: PredictionPlan, volume: Volume) -> Callable[[Region], np.ndarray]:
    """Normalised image crops on the network grid (resampled when ``train_resolution`` is set)."""
    read = data_reader(plan, volume)
    return read if plan.rescale.identity else net_reader(plan.rescale, read)


def to_stored(maps: np.ndarray, plan: PredictionPlan) -> np.ndarray:
    """Maps in the stored dtype (uint8 quantised via ``volseg.maps``)."""
    if plan.dtype == "uint8":
        from volseg.maps import quantize

        return quantize(maps, plan.channels)[0]
    return np.asarray(maps, dtype=np.float32)


def maps_attrs(plan: PredictionPlan) -> dict[str, Any]:
    """Attributes of the maps node: channel names, quantisation record, provenance."""
    from volseg.maps import add_offsets, describe, quantize

    if plan.dtype == "uint8":
        record = quantize(np.zeros((plan.out_channels, 1, 1, 1), np.float32), plan.channels)[1]
    else:
        record = describe(plan.channels)
    if plan.offsets is not None:
        record = add_offsets(record, plan.offsets, plan.rescale.net_voxel)
    return {
        **record,
        "channels": list(plan.channels),
        "checkpoint": plan.checkpoint,
        "prediction": plan.signature,
    }
