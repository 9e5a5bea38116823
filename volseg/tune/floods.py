"""Decode many settings of one decoder, sharing the work settings have in common.

Every decoder's ``min_instance_size`` is a filter applied after the decode, so settings that
differ only there share one decode (:func:`decode_groups`). ``contour_distance`` shares more:
settings with the same seed thresholds share seeds, the same foreground thresholds share the
foreground, and the same (seeds, foreground, height) share the flood. Each returned result
equals ``volseg.decode.registry.decode(maps, decoder, params)`` for its settings with
``min_instance_size=0``, up to the order of ids (the tests check that against full decodes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from volseg.decode.postprocess import connected_components, kernel_connectivity
from volseg.decode.registry import decode
from volseg.decode.watershed import watershed

POST = "min_instance_size"  # the option every decoder applies after decoding


def _frozen(value: Any) -> Any:
    """A hashable copy (nested lists, e.g. affinity offsets, become nested tuples)."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list | tuple) else value


def group_key(params: Mapping[str, Any]) -> tuple:
    """What a decode depends on: every option but the post-decode size filter."""
    return tuple(sorted((k, _frozen(v)) for k, v in params.items() if k != POST))


def decode_groups(
    maps: np.ndarray,
    decoder: str,
    params: Sequence[Mapping[str, Any]],
    *,
    workers: int = 1,
    done: Callable[[], None] | None = None,
) -> tuple[dict[tuple, np.ndarray], dict[str, int]]:
    """``{group_key: labels before the size filter}`` for every distinct group of ``params``;
    ``done()`` is called as each group's labels are ready (progress)."""
    groups = {group_key(p): p for p in params}
    done = done or (lambda: None)
    if decoder == "contour_distance":
        return _contour_distance(maps, groups, workers, done)

    def run(p: Mapping[str, Any]) -> np.ndarray:
        labels = decode(maps, decoder, {**p, POST: 0})
        done()
        return labels

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = dict(zip(groups, pool.map(run, groups.values()), strict=True))
    return results, {"decodes": len(groups)}


def _thresholds(params: Mapping[str, Any]) -> dict[str, Any]:
    return {t: check_pair(t, params.get(f"{t}_threshold")) for t in TERMS}


def _part(params: Mapping[str, Any], which: int) -> tuple:
    th = _thresholds(params)
    key = tuple(None if th[t] is None else th[t][which] for t in TERMS)
    return key + (_frozen(params.get("channels")),)


def _contour_distance(
    maps: np.ndarray,
    groups: dict[tuple, Mapping[str, Any]],
    workers: int,
    done: Callable[[], None],
) -> tuple[dict[tuple, np.ndarray], dict[str, int]]:
    """Seeds, foregrounds and heights computed once each; one flood per distinct combination."""
    from volseg.errors import VolsegError

    def ch_of(p: Mapping[str, Any]) -> Any:
        return split_channels(maps, p.get("channels", (0, 1, 2)))

    def seed_key(p: Mapping[str, Any]) -> tuple:
        return _part(p, 0) + (int(p["min_seed_size"]), int(p["seed_connectivity"]))

    def height_key(p: Mapping[str, Any]) -> tuple:
        return (_frozen(p.get("channels")), int(p["levels"]), bool(p["contour_ridge"]))

    is_cc = {k: p["mode"] == "cc" for k, p in groups.items()}
    seed_jobs = {seed_key(p): p for k, p in groups.items() if not is_cc[k]}
    fg_jobs = {_part(p, 1): p for p in groups.values()}
    height_jobs = {height_key(p): p for k, p in groups.items() if not is_cc[k]}

    def seeds_for(p: Mapping[str, Any]) -> np.ndarray:
        sm = threshold_mask(ch_of(p), _thresholds(p), 0)
        if sm is None:
            raise VolsegError("watershed mode needs at least one active seed threshold.")
        return make_seeds(
            sm, min_seed_size=int(p["min_seed_size"]), connectivity=int(p["seed_connectivity"])
        )

    def fg_for(p: Mapping[str, Any]) -> np.ndarray:
        ch = ch_of(p)
        fg = threshold_mask(ch, _thresholds(p), 1)
        shape = next(a.shape for a in (ch.binary, ch.contour, ch.distance) if a is not None)
        return np.ones(shape, dtype=bool) if fg is None else fg

    def height_for(p: Mapping[str, Any]) -> np.ndarray:
        return flood_height(ch_of(p), levels=int(p["levels"]),
                            contour_ridge=bool(p["contour_ridge"]))  # fmt: skip

    with ThreadPoolExecutor(max_workers=workers) as pool:
        seeds = _map(pool, seeds_for, seed_jobs)
        fgs = _map(pool, fg_for, fg_jobs)
        heights = _map(pool, height_for, height_jobs)

        def flood(item: tuple[tuple, Mapping[str, Any]]) -> np.ndarray:
            key, p = item
            fg = fgs[_part(p, 1)]
            if is_cc[key]:
                return connected_components(fg, connectivity=int(p["seed_connectivity"]))
            conn = kernel_connectivity(int(p["connectivity"]), fg.ndim)
            return watershed(heights[height_key(p)], seeds[seed_key(p)], mask=fg,
                             connectivity=conn, parallel=bool(p["parallel"]))  # fmt: skip

        def flood_done(item: tuple[tuple, Mapping[str, Any]]) -> np.ndarray:
            labels = flood(item)
            done()
            return labels

        results = dict(zip(groups, pool.map(flood_done, groups.items()), strict=True))
    work = {"seed_sets": len(seed_jobs), "foregrounds": len(fg_jobs), "floods": len(groups)}
    return results, work


def _map(pool: ThreadPoolExecutor, fn: Callable, jobs: dict[tuple, Any]) -> dict[tuple, Any]:
    return dict(zip(jobs, pool.map(fn, jobs.values()), strict=True))
