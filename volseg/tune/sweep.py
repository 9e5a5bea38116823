"""Decoder threshold sweeps that reuse work across settings.

A full decode per setting repeats most of its work: settings that share seed thresholds share
seeds, settings that share foreground thresholds share the foreground, and settings that differ
only in ``min_instance_size`` share the whole flood. The sweep computes each of those once,
floods each distinct (seeds, foreground) pair once, in parallel over threads (the numba and
cc3d kernels release the GIL), and scores every result from one contingency table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from volseg.decode.contour_distance import (
    TERMS,
    check_pair,
    flood_height,
    make_seeds,
    split_channels,
    threshold_mask,
)
from volseg.decode.postprocess import connected_components, kernel_connectivity, remove_small
from volseg.decode.watershed import watershed
from volseg.errors import VolsegError
from volseg.metrics import adapted_rand, contingency, voi
from volseg.tune.space import apply_setting, expand, normalise_space

DEFAULTS: dict[str, Any] = {
    "binary_threshold": (0.9, 0.85),
    "contour_threshold": (0.8, None),
    "distance_threshold": (0.5, 0.0),
    "min_seed_size": 32,
    "min_instance_size": 0,
    "mode": "watershed",
    "connectivity": 6,
    "seed_connectivity": 26,
    "contour_ridge": False,
}
METRICS = {"adapted_rand": "are", "voi": "voi"}


@dataclass
class SweepResult:
    """Scores of every setting and the best decoder parameters."""

    rows: list[dict[str, Any]]
    names: list[str]
    best_params: dict[str, Any]
    best_row: dict[str, Any]
    metric: str
    seconds: float
    work: dict[str, int] = field(default_factory=dict)


def _thresholds(params: Mapping[str, Any]) -> dict[str, Any]:
    return {t: check_pair(t, params.get(f"{t}_threshold")) for t in TERMS}


def _key(params: Mapping[str, Any], which: int) -> tuple:
    th = _thresholds(params)
    key = tuple(None if th[t] is None else th[t][which] for t in TERMS)
    return key + ((int(params["min_seed_size"]),) if which == 0 else ())


def _score(labels: np.ndarray, gt: np.ndarray, mask: np.ndarray | None) -> dict[str, float]:
    table = contingency(labels, gt, mask=mask)
    are, precision, recall = adapted_rand(labels, gt, mask=mask, table=table)
    split, merge = voi(labels, gt, mask=mask, table=table)
    n = int(np.count_nonzero(np.unique(labels)))
    return {
        "are": float(are),
        "precision": float(precision),
        "recall": float(recall),
        "voi_split": float(split),
        "voi_merge": float(merge),
        "voi": float(split + merge),
        "n_instances": n,
    }


def sweep(
    maps: np.ndarray,
    gt: np.ndarray,
    space: Mapping[str, Any],
    *,
    mask: np.ndarray | None = None,
    base_params: Mapping[str, Any] | None = None,
    channels: Sequence[int | None] = (0, 1, 2),
    method: str = "grid",
    num_samples: int | None = None,
    seed: int = 0,
    workers: int | None = None,
    metric: str = "adapted_rand",
) -> SweepResult:
    """Score contour-distance decoder settings against ground truth.

    Args:
        maps: float maps (c, z, y, x) as for :func:`volseg.decode.contour_distance`.
        gt: ground-truth instance labels (z, y, x).
        space: swept parameters, e.g. ``{"binary_threshold.seed": [0.8, 0.9],
            "min_instance_size": {"low": 0, "high": 200, "num": 3}}``.
        mask: optional boolean evaluation mask.
        base_params: decoder kwargs for everything not swept (defaults as the decoder's).
        channels: channel index of (binary, contour, distance).
        method: "grid" or "random" (``num_samples`` settings drawn from the grid).
        workers: threads (default: all cores).
        metric: "adapted_rand" (lowest ARE wins) or "voi" (lowest split + merge wins).

    Returns:
        A :class:`SweepResult`; rows are in setting order.
    """
    start = time.perf_counter()
    if metric not in METRICS:
        raise VolsegError(f"metric must be one of {sorted(METRICS)}, got {metric!r}.")
    ch = split_channels(maps, channels)
    gt = np.asarray(gt)
    shape = next(a.shape for a in (ch.binary, ch.contour, ch.distance) if a is not None)
    if gt.shape != shape:
        raise VolsegError(f"ground truth shape {gt.shape} does not match the maps {shape}.")
    if mask is not None and np.shape(mask) != shape:
        raise VolsegError(f"mask shape {np.shape(mask)} does not match the maps {shape}.")
    names_space = normalise_space(space)
    base = {**DEFAULTS, **dict(base_params or {})}
    settings = expand(names_space, method=method, num_samples=num_samples, seed=seed)
    params = [apply_setting(base, s) for s in settings]
    if base["mode"] not in ("watershed", "cc"):
        raise VolsegError(f"mode must be 'watershed' or 'cc', got {base['mode']!r}.")
    workers = workers or os.cpu_count() or 1
    is_cc = base["mode"] == "cc"

    seed_keys = {} if is_cc else {_key(p, 0): p for p in params}
    fg_keys = {_key(p, 1): p for p in params}
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(params):
        groups.setdefault((None if is_cc else _key(p, 0), _key(p, 1)), []).append(i)
    height = None if is_cc else flood_height(ch, contour_ridge=bool(base["contour_ridge"]))

    def seeds_for(p: Mapping[str, Any]) -> np.ndarray:
        sm = threshold_mask(ch, _thresholds(p), 0)
        if sm is None:
            raise VolsegError("watershed mode needs at least one active seed threshold.")
        return make_seeds(
            sm, min_seed_size=int(p["min_seed_size"]), connectivity=int(p["seed_connectivity"])
        )

    def fg_for(p: Mapping[str, Any]) -> np.ndarray:
        fg = threshold_mask(ch, _thresholds(p), 1)
        return np.ones(shape, dtype=bool) if fg is None else fg

    rows: list[dict[str, Any] | None] = [None] * len(params)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        seeds = dict(zip(seed_keys, pool.map(seeds_for, seed_keys.values()), strict=True))
        fgs = dict(zip(fg_keys, pool.map(fg_for, fg_keys.values()), strict=True))

        def run_group(item: tuple[tuple, list[int]]) -> None:
            (sk, fk), members = item
            p0 = params[members[0]]
            if is_cc:
                flooded = connected_components(fgs[fk], connectivity=int(p0["seed_connectivity"]))
            else:
                conn = kernel_connectivity(int(p0["connectivity"]), len(shape))
                flooded = watershed(height, seeds[sk], mask=fgs[fk], connectivity=conn)
            by_size: dict[int, dict[str, float]] = {}
            for i in members:
                size = int(params[i]["min_instance_size"])
                if size not in by_size:
                    by_size[size] = _score(remove_small(flooded, min_size=size), gt, mask)
                rows[i] = {**settings[i], **by_size[size]}

        list(pool.map(run_group, groups.items()))

    key = METRICS[metric]
    best = min(range(len(rows)), key=lambda i: (rows[i][key], rows[i]["voi"], i))
    return SweepResult(
        rows=rows,  # type: ignore[arg-type]
        names=list(names_space),
        best_params=params[best],
        best_row=rows[best],  # type: ignore[arg-type]
        metric=metric,
        seconds=time.perf_counter() - start,
        work={
            "settings": len(params),
            "seed_sets": len(seed_keys),
            "foregrounds": len(fg_keys),
            "floods": len(groups),
        },
    )
