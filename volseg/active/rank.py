"""``rank``: score the regions of a pool with one acquisition strategy and order them.

Each region is predicted with the checkpoint on the region plus ``context`` voxels per side
(a quarter of the sliding window, clipped to the pool) with volseg's sliding window, and scored
on the region itself (channel 0, the foreground probability). Only one region's maps are in
memory at a time; feature strategies keep one pooled vector per region
(:mod:`volseg.active.features`).

Outputs (:func:`write_ranking`): ``ranked.json`` (a list of ``{rank, z0, z1, y0, y1, x0, x1,
score, strategy}``, voxel indices of the pool, end exclusive) and ``ranked.shapes.csv`` beside
it, a napari shapes file (one rectangle per region on its central z-slice; drag it into
napari or open it with :func:`volseg.napari.active.ranking_layer`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from volseg.active import acquisition as acq
from volseg.active.features import PooledFeatures, find_layer
from volseg.active.regions import Box, rectangle, slices, tile, with_context
from volseg.errors import VolsegError

log = logging.getLogger(__name__)
#: TTA views when the config's test-time augmentation is off: the identity and one flip per axis.
DEFAULT_TTA_FLIPS = ([0], [1], [2])


class _ViewModel:
    """The model seen through one TTA view: ``invert(model(apply(x)))``."""

    def __init__(self, model: Any, view: Any) -> None:
        self.model, self.view = model, view

    def __call__(self, x: Any) -> Any:
        out = self.model(self.view.apply(x))
        if isinstance(out, list | tuple):
            out = out[0]
        return self.view.invert(out)

    def eval(self) -> _ViewModel:
        return self

    def parameters(self) -> Any:
        return self.model.parameters()


def _views(cfg: Any) -> list[Any]:
    from volseg.infer.tta import make_tta, tta_from_config

    tta = tta_from_config(cfg.inference.test_time_augmentation)
    if tta is None or len(tta.views) < 2:
        tta = make_tta(DEFAULT_TTA_FLIPS)
    return list(tta.views)


class Predictor:
    """Foreground maps of single regions with a checkpoint (on the data grid)."""

    def __init__(self, cfg: Any, checkpoint: Any, volume: Any, name: str) -> None:
        from volseg.checkpoint import build_model_from_checkpoint, load_checkpoint
        from volseg.infer.plan import check_model_config, data_reader, make_plan, pick_device

        ckpt = load_checkpoint(checkpoint)
        check_model_config(cfg.model, ckpt["model_cfg"], str(checkpoint))
        device = pick_device(int(cfg.system.inference.num_gpus))
        self.model = build_model_from_checkpoint(checkpoint).to(device)
        self.plan = make_plan(
            cfg, checkpoint=checkpoint, ckpt_model=ckpt["model_cfg"], model=self.model,
            volume=volume, image=name, device=device,
        )  # fmt: skip
        if not self.plan.rescale.identity:
            raise VolsegError(
                f"{name}: volseg active predicts on the data grid; its voxel size "
                f"{list(volume.voxel_size)} differs from data.train_resolution (resample the "
                "pool to the training resolution first)."
            )
        self.cfg = cfg
        self.read = data_reader(self.plan, volume)
        self.shape = tuple(int(s) for s in volume.shape[-3:])
        self.context = tuple(w // 4 for w in self.plan.settings.window)

    def maps(self, box: Box, model: Any = None) -> np.ndarray:
        """All channels of the prediction of ``box`` (with context), cropped to ``box``."""
        from volseg.infer.sliding import predict_array

        s = self.plan.settings
        grown, inner = with_context(box, self.context, self.shape)
        maps = predict_array(
            self.model if model is None else model, self.read(slices(grown)), window=s.window,
            overlap=s.overlap, sigma_scale=s.sigma_scale, blending=s.blending,
            sw_batch_size=s.sw_batch_size, padding_mode=s.padding_mode,
            activations=s.activations, device=s.device, amp=s.amp,
        )  # fmt: skip
        return maps[(slice(None), *slices(inner))]

    def foreground(self, box: Box, model: Any = None) -> np.ndarray:
        """Channel 0 (foreground probability) of :meth:`maps`."""
        return self.maps(box, model)[0]


def rank(
    cfg: Any,
    checkpoint: str | os.PathLike[str] | None,
    pool: Any,
    *,
    region: Sequence[int],
    strategy: str,
    budget: int | None = None,
    feature_layer: str | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The pool's regions ordered for annotation by ``strategy`` (the first ``budget``).

    Raises:
        VolsegError: an unknown strategy, a pool smaller than one region, a feature strategy
            without ``feature_layer`` or with a name the model lacks, a bad checkpoint.
    """
    from volseg.infer.predict import open_image
    from volseg.models.heads import require_foreground

    acq.check_strategy(strategy)
    require_foreground(cfg.model, command="volseg active")
    if budget is not None and budget < 1:
        raise VolsegError(f"--budget must be at least 1, got {budget}.")
    if strategy in acq.FEATURE_STRATEGIES and not feature_layer:
        raise VolsegError(f"--strategy {strategy} needs --feature-layer NAME (a model module).")
    volume, name = open_image(cfg, pool)
    boxes = tile(volume.shape[-3:], region, name=f"the pool {name}")
    k = len(boxes) if budget is None else min(budget, len(boxes))
    if strategy == "random":
        return _records(boxes, acq.random_scores(len(boxes), seed), None, strategy, k)
    if checkpoint is None:
        raise VolsegError(f"--strategy {strategy} needs --checkpoint.")
    predictor = Predictor(cfg, checkpoint, volume, name)
    layer = None
    if strategy in acq.FEATURE_STRATEGIES:
        layer = find_layer(predictor.model, str(feature_layer))
    scores, features = score_regions(predictor, boxes, strategy, layer=layer)
    if features is None:
        return _records(boxes, scores, None, strategy, k)
    weights = None if strategy == "diversity" else scores / max(scores.max(), 1e-12)
    picks, gains = acq.k_center(features, k, weights=weights)
    return _records(boxes, np.asarray(gains), picks, strategy, k)


def score_regions(
    predictor: Predictor, boxes: Sequence[Box], strategy: str, *, layer: Any = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """One score per box (``entropy`` for the feature strategies) and, with ``layer``, the
    ``(n_regions, channels)`` float32 matrix of its pooled outputs (None without)."""
    hook = None if layer is None else PooledFeatures(layer)
    views = _views(predictor.cfg) if strategy == "tta" else []
    scores = np.zeros(len(boxes))
    features: np.ndarray | None = None
    try:
        for i, box in enumerate(boxes):
            if strategy == "tta":
                stack = np.stack([predictor.foreground(box, _ViewModel(predictor.model, v))
                                  for v in views])  # fmt: skip
                scores[i] = acq.tta_disagreement(stack)
                continue
            scores[i] = acq.SCORERS.get(strategy, acq.entropy)(predictor.foreground(box))
            if hook is not None:
                vector = hook.take()
                if features is None:
                    features = np.zeros((len(boxes), vector.size), dtype=np.float32)
                features[i] = vector
            log.debug(f"region {i + 1}/{len(boxes)} {box}: {scores[i]:.4g}")
    finally:
        if hook is not None:
            hook.remove()
    return scores, features


def _records(
    boxes: list[Box], scores: np.ndarray, order: list[int] | None, strategy: str, k: int
) -> list[dict[str, Any]]:
    """Records of the first ``k`` regions: by descending ``scores`` (one per box), or in
    ``order`` with ``scores`` given per rank (k-center gains)."""
    if order is None:
        order = acq.order_by_score(scores)
        scores = scores[order]
    keys = ("z0", "z1", "y0", "y1", "x0", "x1")
    return [
        {"rank": r + 1, **dict(zip(keys, boxes[i], strict=True)),
         "score": float(scores[r]), "strategy": strategy}
        for r, i in enumerate(order[:k])
    ]  # fmt: skip


def shapes_csv(ranking: Sequence[dict[str, Any]]) -> str:
    """napari's shapes CSV: one rectangle per region on its central z-slice, in rank order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["index", "shape-type", "vertex-index", "axis-0", "axis-1", "axis-2"])
    for i, rec in enumerate(ranking):
        for v, corner in enumerate(rectangle(rec)):
            writer.writerow([i, "rectangle", v, *corner])
    return buf.getvalue()


def shapes_path(out: str | os.PathLike[str]) -> Path:
    out = Path(out)
    return out.with_name(out.name.removesuffix(".json") + ".shapes.csv")


def write_ranking(
    ranking: Sequence[dict[str, Any]], out: str | os.PathLike[str], *, overwrite: bool = False
) -> tuple[Path, Path]:
    """Write ``out`` (JSON) and the napari shapes CSV beside it; refuse existing files unless
    ``overwrite``."""
    from volseg.atomic import atomic_write_text

    out = Path(out)
    csv_path = shapes_path(out)
    for path in (out, csv_path):
        if path.exists() and not overwrite:
            raise VolsegError(f"{path} exists; pass --overwrite to replace it.")
    atomic_write_text(csv_path, shapes_csv(ranking))
    atomic_write_text(out, json.dumps(list(ranking), indent=1) + "\n")
    return out, csv_path
