"""Decoder sweeps: score every setting of any decoder against ground truth, pick the best.

One machine for every decoder in :data:`volseg.decode.registry.DECODERS`: settings are
expanded from the space, settings whose thresholds lie outside the maps' value range are
reported and skipped (:mod:`volseg.tune.ranges`), the rest are decoded sharing common work
(:mod:`volseg.tune.floods`), and each result is scored from one contingency table with every
named score of :mod:`volseg.metrics.objectives`. The best setting is the best by the chosen
objective (ties broken by scores that see background errors); a *degenerate* setting, one that
labels (nearly) all of a substantial ground-truth background, never wins.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from volseg.decode.postprocess import remove_small
from volseg.errors import VolsegError
from volseg.metrics import contingency
from volseg.metrics.objectives import (
    all_scores,
    check_objective,
    default_objective,
    rank_key,
)
from volseg.progress import track
from volseg.tune.floods import POST, decode_groups, group_key
from volseg.tune.ranges import channel_ranges, out_of_range, threshold_uses
from volseg.tune.space import apply_setting, decoder_defaults, expand, normalise_space

#: A setting that labels at least this share of the gt background is degenerate ...
DEGENERATE_LABELLED = 0.995
#: ... when the gt background is at least this share of the scored voxels.
DEGENERATE_BACKGROUND = 0.05


@dataclass
class SweepResult:
    """Scores of every setting and the best decoder parameters.

    ``rows`` hold the swept values then the scores (or ``skipped`` with the reason);
    ``metric``/``metric_reason`` name the objective and why it was used.
    """

    rows: list[dict[str, Any]]
    names: list[str]
    best_params: dict[str, Any]
    best_row: dict[str, Any]
    metric: str
    metric_reason: str
    decoder: str
    seconds: float
    work: dict[str, int] = field(default_factory=dict)

    @property
    def scored(self) -> list[dict[str, Any]]:
        """Rows that were decoded and scored (not skipped)."""
        return [r for r in self.rows if not r.get("skipped")]


def is_degenerate(table: Any) -> bool:
    """Whether a segmentation labels (nearly) all of a substantial ground-truth background."""
    bg = table.gt_ids == 0
    n_bg = float(table.counts[bg].sum())
    if n_bg < DEGENERATE_BACKGROUND * max(table.n_voxels, 1):
        return False
    labelled = float(table.counts[bg & (table.seg_ids != 0)].sum())
    return labelled >= DEGENERATE_LABELLED * n_bg


def _check_inputs(maps: np.ndarray, gt: np.ndarray, mask: Any) -> None:
    if maps.ndim != 4:
        raise VolsegError(f"maps must be (c, z, y, x), got shape {maps.shape}.")
    if gt.shape != maps.shape[1:]:
        raise VolsegError(
            f"ground truth shape {gt.shape} does not match the maps' spatial shape "
            f"{maps.shape[1:]}."
        )
    if gt.dtype.kind not in "uib":
        raise VolsegError(f"ground truth must hold integer labels, got {gt.dtype}.")
    if mask is not None and np.shape(mask) != gt.shape:
        raise VolsegError(f"mask shape {np.shape(mask)} does not match the maps {gt.shape}.")


def choose_metric(metric: str | None, gt: np.ndarray, mask: Any) -> tuple[str, str]:
    """The objective to use and the reason, given or by the ground truth's background share."""
    scored = gt if mask is None else gt[np.asarray(mask, dtype=bool)]
    share = float(np.count_nonzero(scored == 0)) / max(scored.size, 1)
    if metric is None:
        return default_objective(share)
    check_objective(metric)
    if gt.dtype == bool and not metric.startswith(("fg_", "are_with")):
        raise VolsegError(
            f"metric `{metric}` needs instance labels, but the ground truth is a semantic "
            "(boolean) mask; use fg_iou or fg_dice, or give instance labels."
        )
    return metric, "given"


def sweep(
    maps: np.ndarray,
    gt: np.ndarray,
    space: Mapping[str, Any],
    *,
    decoder: str = "contour_distance",
    mask: np.ndarray | None = None,
    base_params: Mapping[str, Any] | None = None,
    metric: str | None = None,
    min_size: int = 0,
    method: str = "grid",
    num_samples: int | None = None,
    seed: int = 0,
    workers: int | None = None,
) -> SweepResult:
    """Score settings of ``decoder`` on ``maps`` against ``gt``; return all rows and the best.

    Args:
        maps: float maps (c, z, y, x), as the decoder takes them.
        gt: ground-truth instance labels (z, y, x).
        space: swept parameters, e.g. ``{"binary_threshold.seed": [0.8, 0.9],
            "min_instance_size": {"low": 0, "high": 200, "num": 3}}``.
        decoder: a name of :data:`volseg.decode.registry.DECODERS`.
        mask: optional boolean evaluation mask.
        base_params: decoder options not swept (the decoder's own defaults otherwise).
        metric: objective name (:data:`volseg.metrics.objectives.OBJECTIVES`); None picks the
            default by the ground truth's background share.
        min_size: instances below this many voxels are left out of matching and AP.
        method: "grid" or "random" (``num_samples`` settings drawn from the grid).
        seed: random seed for ``method="random"``.
        workers: threads (default: all cores).

    Returns:
        A :class:`SweepResult`; rows are in setting order.

    Raises:
        VolsegError: bad space, shapes or metric; every setting out of range or degenerate.
    """
    start = time.perf_counter()
    gt = np.asarray(gt)
    _check_inputs(maps, gt, mask)
    metric, reason = choose_metric(metric, gt, mask)
    names_space = normalise_space(space, decoder)
    base = {**decoder_defaults(decoder), **dict(base_params or {})}
    settings = expand(names_space, method=method, num_samples=num_samples, seed=seed)
    params = [apply_setting(base, s) for s in settings]
    uses = [threshold_uses(decoder, p) for p in params]
    ranges = channel_ranges(maps, [u[1] for us in uses for u in us])
    skipped = {i: why for i, us in enumerate(uses) if (why := out_of_range(us, ranges))}
    live = [i for i in range(len(params)) if i not in skipped]
    if not live:
        first = next(iter(skipped.values()))
        raise VolsegError(
            f"every one of the {len(params)} settings puts a threshold outside the maps' value "
            f"range (e.g. {first}); choose values inside it."
        )
    workers = workers or os.cpu_count() or 1
    live_params = [params[i] for i in live]
    n_groups = len({group_key(p) for p in live_params})
    with track("sweep: decodes", n_groups) as bar:
        flooded, work = decode_groups(maps, decoder, live_params, workers=workers, done=bar.advance)

    rows: list[dict[str, Any]] = [{**s} for s in settings]
    keys = {i: (group_key(params[i]), int(params[i].get(POST, 0))) for i in live}
    todo = list(dict.fromkeys(keys.values()))  # each (decode, size filter) scored once
    with track("sweep: scores", len(todo)) as bar:

        def score(key: tuple[tuple, int]) -> dict[str, Any]:
            group, size = key
            table = contingency(remove_small(flooded[group], min_size=size), gt, mask=mask)
            row = {**all_scores(table, min_size=min_size), "degenerate": is_degenerate(table)}
            bar.advance()
            return row

        with ThreadPoolExecutor(max_workers=workers) as pool:
            scores = dict(zip(todo, pool.map(score, todo), strict=True))
    for i in live:
        rows[i].update(scores[keys[i]], skipped="")
    for i, why in skipped.items():
        rows[i]["skipped"] = why
    fair = [i for i in live if not rows[i]["degenerate"]]
    if not fair:
        raise VolsegError(
            f"every scored setting labels all of the ground-truth background ({len(live)} "
            "settings); raise the foreground thresholds."
        )
    best = min(fair, key=lambda i: (rank_key(rows[i], metric), i))
    return SweepResult(
        rows=rows,
        names=list(names_space),
        best_params=params[best],
        best_row=rows[best],
        metric=metric,
        metric_reason=reason,
        decoder=decoder,
        seconds=time.perf_counter() - start,
        work={"settings": len(params), "skipped": len(skipped), "scored": len(todo), **work},
    )
