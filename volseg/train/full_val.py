"""Whole-region validation: sliding-window prediction, decoding and instance scores.

Every ``monitor.full_val_every_n_epochs`` the network predicts each validation region whole
(MONAI ``sliding_window_inference`` with Gaussian blending and the views of
``inference.test_time_augmentation``, on the training grid; maps are resampled back to the data
grid), so validation scores what ``volseg predict`` would give; the maps are decoded with
``test.decoding[0]`` and scored against the labels on the data grid:

- ``val/are``, ``val/precision``, ``val/recall``: adapted Rand error and its parts with
  ground-truth background ignored (ground-truth instances under
  ``test.evaluation.min_instance_size`` voxels are dropped first; regions without labelled
  voxels are left out); ``val/are_with_bg``: the same with gt background as a segment, so
  false positives count;
- ``val/voi_split``, ``val/voi_merge``: variation of information (bits), gt background
  left out, with the same small-instance rule;
- ``val/seg_fg_iou``, ``val/seg_fg_dice``: the *segmentation's* foreground (labels > 0)
  against ``labels > 0``, hard;
- ``val/f1_50``, ``val/ap_50``, ``val/ap_75``: instance F1 at IoU 0.5 and MitoEM AP at 0.5 /
  0.75 (instances under ``test.evaluation.min_instance_size`` left out on both sides);
- ``val/map_fg_iou``: the *map's* foreground IoU, the ``binary`` channel thresholded at 0.5
  (the segmentation's when the model has no ``binary`` task);
- ``val/instances``, ``val/gt_instances``: non-zero ids segmented and in the ground truth.

Scores of several regions are averaged, weighted by their number of valid voxels; instance
counts are summed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import torch
from torch import nn

from volseg.data.resample import resample_image
from volseg.errors import VolsegError
from volseg.infer.tta import TTA, predict_views, tta_from_config
from volseg.models.heads import channel_activations

PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def grid_shape(
    shape: Sequence[int], voxel_size: Sequence[float], resolution: Sequence[float] | None
) -> tuple[int, int, int]:
    """Shape of a data-grid region on the training grid (at least 1 voxel per axis)."""
    if resolution is None:
        return tuple(int(s) for s in shape)  # type: ignore[return-value]
    return tuple(
        max(1, int(round(s * v / r))) for s, v, r in zip(shape, voxel_size, resolution, strict=True)
    )  # type: ignore[return-value]


@torch.no_grad()
def predict_region(
    net: nn.Module,
    image: np.ndarray,
    *,
    model_cfg: Any,
    window: Any,
    voxel_size: Sequence[float],
    resolution: Sequence[float] | None,
    device: torch.device,
    autocast: AbstractContextManager | None = None,
    tta: TTA | None = None,
) -> np.ndarray:
    """Maps ``(c, z, y, x)`` float32 of a normalised ``(z, y, x)`` image, on its own grid.

    Args:
        net: the network (put in eval mode here, its mode restored after).
        image: the normalised image on the data grid.
        model_cfg: the model section (activations per channel).
        window: the ``inference.sliding_window`` section.
        voxel_size: nm of the data grid.
        resolution: nm of the training grid (``data.train_resolution``; None = data grid).
        device: where the network runs.
        autocast: precision context for the forward pass.
        tta: test-time augmentation views to ensemble (activations applied per view first,
            as ``volseg predict`` does); None predicts the image as it is.
    """
    from monai.inferers import sliding_window_inference

    shape = tuple(image.shape)
    grid = grid_shape(shape, voxel_size, resolution)
    x = resample_image(image, grid) if grid != shape else np.asarray(image, np.float32)
    roi = [int(w) for w in window.window_size]
    # Pad to at least one window ourselves: numpy reflects any amount, torch's reflect cannot
    # pad more than the input size (a thin validation slab under a tall window).
    short = [max(0, r - s) for r, s in zip(roi, grid, strict=True)]
    pads = [(n // 2, n - n // 2) for n in short]
    if any(p for pair in pads for p in pair):
        x = np.pad(x, pads, mode=PAD_MODES[window.padding_mode])
    tensor = torch.from_numpy(np.ascontiguousarray(x))[None, None].to(device)

    activations = channel_activations(model_cfg)

    def predictor(patch: torch.Tensor) -> torch.Tensor:
        with autocast or nullcontext():
            return predict_views(net, patch, tta=tta, activations=activations)

    was_training = net.training
    net.eval()
    try:
        out = sliding_window_inference(
            tensor, roi_size=roi, sw_batch_size=int(window.sw_batch_size), predictor=predictor,
            overlap=float(window.overlap), mode=window.blending,
            sigma_scale=float(window.sigma_scale), padding_mode=window.padding_mode,
            device=torch.device("cpu"),
        )  # fmt: skip
    finally:
        net.train(was_training)
    crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, grid, strict=True))
    maps = out[0][(slice(None), *crop)].numpy().astype(np.float32, copy=False)
    if grid != shape:
        maps = np.stack([resample_image(m, shape) for m in maps])
    return maps


def score_region(
    maps: np.ndarray, labels: np.ndarray, mask: np.ndarray | None, *, cfg: Any
) -> tuple[dict[str, float], np.ndarray]:
    """Decode ``maps`` with ``test.decoding[0]`` and score them (see the module docstring).

    Returns:
        ``(scores, segmentation)``; ``scores`` has ``weight`` (valid voxels) and the ``val/``
        values (adapted Rand values are NaN when the region has no labelled voxel).
    """
    from volseg.decode import decode
    from volseg.decode.postprocess import remove_small
    from volseg.metrics import contingency, semantic
    from volseg.metrics.objectives import all_scores

    decoder = cfg.test.decoding[0]
    params = dict(decoder.kwargs) if decoder.kwargs else {}
    seg = decode(maps, decoder.name, {k: _plain(v) for k, v in params.items()})
    gt = np.asarray(labels)
    valid = None if mask is None else np.asarray(mask).astype(bool)
    weight = float(gt.size if valid is None else valid.sum())
    scores: dict[str, float] = {"weight": weight}
    small = int(cfg.test.evaluation.min_instance_size)
    gt_inst = remove_small(gt, min_size=small) if small else gt
    s = all_scores(contingency(seg, gt_inst, mask=valid), min_size=small)
    if not np.any(gt_inst if valid is None else gt_inst[valid]):
        s.update({k: float("nan") for k in ("are_ignore_bg", "precision", "recall")})
    scores.update({"val/are": s["are_ignore_bg"], "val/precision": s["precision"],
                   "val/recall": s["recall"], "val/are_with_bg": s["are_with_bg"],
                   "val/voi_split": s["voi_split"], "val/voi_merge": s["voi_merge"],
                   "val/seg_fg_iou": s["fg_iou"], "val/seg_fg_dice": s["fg_dice"],
                   "val/f1_50": s["f1@0.5"], "val/ap_50": s["ap@0.5"], "val/ap_75": s["ap@0.75"],
                   "val/instances": s["n_instances"], "val/gt_instances": s["n_gt"]})  # fmt: skip
    from volseg.models.heads import foreground_channel

    channel = foreground_channel(cfg.model)
    pred = maps[channel] if channel is not None else seg > 0
    scores["val/map_fg_iou"] = semantic(pred, gt > 0, threshold=0.5, mask=valid)["iou"]
    return scores, seg


def _affinity(cfg: Any) -> tuple[Any, ...]:
    """``(channel, offset)`` of the model's affinity channels, for test-time augmentation."""
    from volseg.infer.plan import affinity_offsets_of, affinity_pairs, channel_names

    channels = channel_names(cfg.model)
    if "affinity" not in channels:
        return ()
    size = cfg.data.train_resolution or cfg.data.voxel_size
    offsets = affinity_offsets_of(cfg.data.label_transform.targets, channels,
                                  None if size is None else tuple(size))  # fmt: skip
    return affinity_pairs(channels, offsets)


def _plain(value: Any) -> Any:
    if type(value).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(value)
    return value


def combine(scores: Iterable[dict[str, float]]) -> dict[str, float]:
    """Average per-region scores weighted by ``weight``, skipping NaN entries per value;
    instance counts (``*instances``) are summed."""
    scores = list(scores)
    out: dict[str, float] = {}
    keys = [k for k in scores[0] if k != "weight"] if scores else []
    for key in keys:
        if key.endswith("instances"):
            out[key] = float(sum(s[key] for s in scores))
            continue
        pairs = [(s[key], s["weight"]) for s in scores if np.isfinite(s[key])]
        total = sum(w for _, w in pairs)
        out[key] = sum(v * w for v, w in pairs) / total if total > 0 else float("nan")
    return out


def full_validation(
    net: nn.Module,
    regions: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray | None, Sequence[float]]],
    *,
    cfg: Any,
    device: torch.device,
    autocast: AbstractContextManager | None = None,
) -> tuple[dict[str, float], dict[str, np.ndarray] | None]:
    """Predict, decode and score every validation region.

    Args:
        net: the network to validate.
        regions: ``(image, labels, mask, voxel_size)`` per region; images normalised, all on
            the data grid.
        cfg: the whole config.
        device: where the network runs.
        autocast: precision context.

    Returns:
        ``(scores, example)``: combined ``val/`` scores, and the middle z-slice of the first
        region (``image``, ``labels``, ``maps``, ``seg``) for figures.
    """
    resolution = cfg.data.train_resolution
    tta = tta_from_config(cfg.inference.test_time_augmentation, affinity=_affinity(cfg))
    all_scores, example = [], None
    for image, labels, mask, voxel_size in regions:
        maps = predict_region(
            net, image, model_cfg=cfg.model, window=cfg.inference.sliding_window,
            voxel_size=voxel_size, resolution=None if resolution is None else list(resolution),
            device=device, autocast=autocast, tta=tta,
        )  # fmt: skip
        scores, seg = score_region(maps, labels, mask, cfg=cfg)
        all_scores.append(scores)
        if example is None:
            z = image.shape[0] // 2
            example = {"image": image[z], "labels": labels[z], "maps": maps[:, z], "seg": seg[z]}
    if not all_scores:
        raise VolsegError("whole-region validation found no validation region in the split.")
    return combine(all_scores), example
