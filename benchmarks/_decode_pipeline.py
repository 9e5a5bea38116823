"""Rows of ``benchmarks/decode.py`` for the whole decoder and the threshold sweep.

Maps: binary / instance boundary / instance EDT made with ``make_targets`` from the same
64x256x256 neuroproof labels as the watershed rows, blurred (sigma 1) and noised (N(0, 0.05)) so
they look like a network's output. The reference decoder is PyTorch Connectomics'
``decode_instance_binary_contour_distance`` route, written here: cc3d seeds,
``skimage.morphology.remove_small_objects``, ``mahotas.cwatershed`` on the negated, clipped
distance over the whole volume, then the foreground mask applied afterwards.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from _common import Row, best_of, peak_memory_mb

PARAMS: dict[str, Any] = {
    "binary_threshold": (0.9, 0.85),
    "contour_threshold": (0.8, None),
    "distance_threshold": (0.5, 0.0),
    "min_seed_size": 32,
    "min_instance_size": 0,
}
# 4 x 5 x 5 = 100 settings; the sweep floods 25 distinct (seed, foreground) pairs.
SPACE: dict[str, list[Any]] = {
    "min_instance_size": [0, 100, 500, 1000],
    "contour_threshold.seed": [0.2, 0.35, 0.5, 0.65, 0.8],
    "distance_threshold.seed": [0.2, 0.35, 0.5, 0.65, 0.8],
}
_MAPS: dict[int, np.ndarray] = {}


def maps_of(case: Any) -> np.ndarray:
    """Degraded oracle maps (3, z, y, x) float32 for the case's labels (cached)."""
    if id(case) not in _MAPS:
        from scipy import ndimage as ndi

        from volseg.data import make_targets

        spec = [{"name": "binary"}, {"name": "instance_boundary"}, {"name": "instance_edt"}]
        maps = make_targets(case.labels, (10.0, 10.0, 10.0), spec)
        rng = np.random.default_rng(1)
        for c in range(3):
            maps[c] = ndi.gaussian_filter(maps[c], 1.0) + rng.normal(0, 0.05, maps[c].shape)
        maps[:2] = np.clip(maps[:2], 0, 1)
        maps[2] = np.clip(maps[2], -1, 1)
        _MAPS[id(case)] = maps.astype(np.float32)
    return _MAPS[id(case)]


def pytc_decode(maps: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """PyTorch Connectomics' binary + contour + distance decode (cc3d + mahotas route)."""
    import cc3d
    import fastremap
    import mahotas
    from skimage.morphology import remove_small_objects

    binary, contour, distance = maps
    (b0, b1), (c0, c1), (d0, d1) = (
        params["binary_threshold"],
        params["contour_threshold"],
        params["distance_threshold"],
    )
    foreground = (binary > b1) & (distance > d1)
    if c1 is not None:
        foreground &= contour < c1
    seed = cc3d.connected_components((binary > b0) & (contour < c0) & (distance > d0))
    seed = remove_small_objects(seed, max_size=params["min_seed_size"] - 1)
    dist = distance.copy()
    dist[dist < 0] = 0
    seg = mahotas.cwatershed(-dist.astype(np.float64), seed)
    seg[~foreground] = 0
    seg, _ = fastremap.renumber(seg, preserve_zero=True)
    if params["min_instance_size"] > 0:
        ids, counts = fastremap.unique(seg, return_counts=True)
        seg = fastremap.mask(seg, ids[(counts < params["min_instance_size"]) & (ids > 0)])
    return seg


def row_contour_distance(case: Any) -> Row:
    from volseg.decode import contour_distance
    from volseg.metrics import adapted_rand

    maps = maps_of(case)
    t_ref, ref = best_of(lambda: pytc_decode(maps, PARAMS), case.repeats, warmup=False)
    t, out = best_of(lambda: contour_distance(maps, **PARAMS), case.repeats)
    are, _, _ = adapted_rand(out, ref)
    peak = peak_memory_mb(lambda: contour_distance(maps, **PARAMS))
    ratio_mem = peak / (maps.nbytes / 2**20)
    return Row(
        name="contour-distance decode",
        volseg_s=t,
        reference_s=t_ref,
        reference="cc3d + mahotas.cwatershed (PyTorch Connectomics route)",
        peak_mb=peak,
        agree=f"ARE {are:.1e} vs reference; peak {ratio_mem:.2f}x the maps",
        bar=10.0,
        passed=are <= 1e-3 and ratio_mem <= 3.0,
        details={"are": are, "memory_over_maps": ratio_mem, "instances": int(out.max())},
    )


def _sweep_row(case: Any, decoder: str, space: dict, base: dict) -> Row:
    """One sweep against one full decode + the same scores per setting (the reference)."""
    from volseg.decode.registry import decode
    from volseg.metrics import contingency
    from volseg.metrics.objectives import all_scores
    from volseg.tune import sweep
    from volseg.tune.space import apply_setting, decoder_defaults

    maps, gt = maps_of(case), case.labels
    decode(maps, decoder, base)  # warm-up (compilation)
    start = time.perf_counter()
    result = sweep(maps, gt, space, decoder=decoder, base_params=base)
    t = time.perf_counter() - start
    start = time.perf_counter()
    worst = 0.0
    full = {**decoder_defaults(decoder), **base}
    for row in result.scored:
        params = apply_setting(full, {k: row[k] for k in result.names})
        scores = all_scores(contingency(decode(maps, decoder, params), gt))
        worst = max(worst, max(abs(scores[k] - row[k]) for k in scores))
    t_ref = time.perf_counter() - start
    n = len(result.scored)
    return Row(
        name=f"sweep {decoder}, {n} settings",
        volseg_s=t,
        reference_s=t_ref,
        reference=f"{n} full decodes + the same scores",
        peak_mb=0.0,
        agree=f"max score diff {worst:.1e}; {result.metric}; bar <= 30 s",
        bar=None,
        passed=worst <= 1e-12 and t <= 30.0,
        details={"seconds": t, "work": result.work, "max_score_diff": worst},
    )


def row_sweep(case: Any) -> Row:
    return _sweep_row(case, "contour_distance", SPACE, PARAMS)


def row_sweep_cc(case: Any) -> Row:
    # dense neurons: the binary channel is ~1 everywhere, so components of the distance map's
    # cores (channel 2) are what a cc decode of these maps means
    space = {"threshold": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
             "connectivity": [6, 26], "min_instance_size": [0, 100, 1000]}  # fmt: skip
    return _sweep_row(case, "cc", space, {"channel": 2})
