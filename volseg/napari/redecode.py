"""Re-decode cached maps with new thresholds, and score the result: the widget's logic.

Nothing here touches Qt. The widget (``volseg.napari._widget``) shows one slider per entry
of :data:`SLIDERS` (threshold sliders can be switched off), turns the slider values into
``contour_distance`` keyword arguments with :func:`to_params`, and runs :func:`redecode`
in a worker thread; :class:`LatestOnly` keeps only the newest request while one runs.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.napari.errors_layer import DEFAULT_MIN_OVERLAP, error_labels
from volseg.napari.layers import PRED_ROLES, find_layer

DECODER = "contour_distance"
PAIRS = ("binary_threshold", "contour_threshold", "distance_threshold")
SIZES = ("min_seed_size", "min_instance_size")


@dataclass(frozen=True)
class Slider:
    """One decoder setting: ``key`` is ``<pair>.seed``, ``<pair>.fg`` or a size option."""

    key: str
    label: str
    low: float
    high: float
    step: float
    integer: bool = False
    optional: bool = True  # thresholds can be switched off (None)


SLIDERS = (
    Slider("binary_threshold.seed", "binary seed >", 0.0, 1.0, 0.01),
    Slider("binary_threshold.fg", "binary fg >", 0.0, 1.0, 0.01),
    Slider("contour_threshold.seed", "contour seed <", 0.0, 1.0, 0.01),
    Slider("contour_threshold.fg", "contour fg <", 0.0, 1.0, 0.01),
    Slider("distance_threshold.seed", "distance seed >", -1.0, 1.0, 0.01),
    Slider("distance_threshold.fg", "distance fg >", -1.0, 1.0, 0.01),
    Slider("min_seed_size", "min seed size", 0, 5000, 1, integer=True, optional=False),
    Slider("min_instance_size", "min instance size", 0, 100000, 1, integer=True, optional=False),
)


def decoder_defaults() -> dict[str, Any]:
    """The keyword defaults of ``volseg.decode.contour_distance``."""
    from volseg.decode import contour_distance

    sig = inspect.signature(contour_distance)
    return {p.name: p.default for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY}


def initial_values(thresholds: Mapping[str, Any] | None = None) -> dict[str, float | None]:
    """Slider values from a ``thresholds.json`` record (contour_distance only) or the defaults."""
    params = decoder_defaults()
    if thresholds and thresholds.get("decoder") == DECODER:
        params.update(thresholds.get("params") or {})
    values: dict[str, float | None] = {}
    for pair in PAIRS:
        seed, fg = params.get(pair) or (None, None)
        values[f"{pair}.seed"], values[f"{pair}.fg"] = seed, fg
    for size in SIZES:
        values[size] = int(params.get(size) or 0)
    return values


def fixed_params(thresholds: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Settings of a ``thresholds.json`` that no slider controls (mode, connectivity...)."""
    if not thresholds or thresholds.get("decoder") != DECODER:
        return {}
    free = set(PAIRS) | set(SIZES) | {"channels"}
    return {k: v for k, v in (thresholds.get("params") or {}).items() if k not in free}


def to_params(
    values: Mapping[str, float | None],
    *,
    fixed: Mapping[str, Any] | None = None,
    channels: tuple[int | None, ...] = (0, 1, 2),
) -> dict[str, Any]:
    """``contour_distance`` keyword arguments from slider values (None = switched off)."""
    known = {s.key for s in SLIDERS}
    unknown = set(values) - known
    if unknown:
        raise VolsegError(f"unknown decoder settings {sorted(unknown)}; valid: {sorted(known)}.")
    params: dict[str, Any] = dict(fixed or {})
    for pair in PAIRS:
        seed, fg = values.get(f"{pair}.seed"), values.get(f"{pair}.fg")
        params[pair] = None if seed is None and fg is None else (seed, fg)
    for size in SIZES:
        params[size] = int(values.get(size) or 0)
    params["channels"] = tuple(channels)
    return params


def level0(layer: Any) -> Any:
    """A layer's full-resolution data (level 0 of a multiscale layer), still lazy."""
    return layer.data[0] if getattr(layer, "multiscale", False) else layer.data


def pred_sources(layers: Iterable[Any]) -> tuple[list[Any], tuple[int | None, ...]]:
    """The ``pred/binary``, ``pred/boundary`` and ``pred/edt`` layers' lazy level-0 data and
    the decoder's ``channels`` argument for their stack (None for an absent map).

    Raises:
        VolsegError: no prediction layers.
    """
    layers = list(layers)
    arrays: list[Any] = []
    channels: list[int | None] = []
    for role in PRED_ROLES:
        layer = find_layer(layers, role)
        channels.append(None if layer is None else len(arrays))
        if layer is not None:
            arrays.append(level0(layer))
    if not arrays:
        raise VolsegError(
            "no prediction maps to decode: load a predictions.zarr (layers pred/binary, "
            "pred/boundary, pred/edt) first."
        )
    return arrays, tuple(channels)


def stack_maps(arrays: Iterable[Any]) -> np.ndarray:
    """Read and stack map channels into float32 ``(c, z, y, x)`` (the widget's cache).

    Raises:
        VolsegError: channels of different shapes.
    """
    read = [np.asarray(a[...], dtype=np.float32) for a in arrays]
    if len({a.shape for a in read}) > 1:
        shapes = ", ".join(str(a.shape) for a in read)
        raise VolsegError(f"the prediction layers differ in shape ({shapes}).")
    return np.stack(read)


def maps_from_layers(layers: Iterable[Any]) -> tuple[np.ndarray, tuple[int | None, ...]]:
    """Float32 maps ``(c, z, y, x)`` from the prediction layers, and their ``channels``."""
    arrays, channels = pred_sources(layers)
    return stack_maps(arrays), channels


@dataclass(frozen=True)
class Redecoded:
    """A decode with its scores (when ground truth was given)."""

    labels: np.ndarray
    errors: np.ndarray | None
    scores: dict[str, float] | None
    n_instances: int
    seconds: float


def redecode(
    maps: np.ndarray,
    params: Mapping[str, Any],
    *,
    gt: Any = None,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
) -> Redecoded:
    """Decode ``maps`` with ``contour_distance(**params)``; score it against ``gt`` if given.

    Scores are every named score of :func:`volseg.metrics.objectives.all_scores` (adapted Rand
    with background ignored and counted, F1 and AP, the segmentation's foreground IoU...), from
    the same contingency table as the errors layer.

    Raises:
        VolsegError: bad parameters, or ``gt`` of a different shape than the maps.
    """
    from volseg.decode import decode
    from volseg.metrics import contingency
    from volseg.metrics.objectives import all_scores, count_instances

    start = time.perf_counter()
    labels = decode(maps, DECODER, params)
    errors = scores = None
    if gt is not None:
        gt = np.asarray(gt)
        if gt.shape != labels.shape:
            raise VolsegError(
                f"the ground truth {gt.shape} and the maps {labels.shape} differ in shape."
            )
        table = contingency(labels, gt)
        scores = all_scores(table)
        errors = error_labels(labels, gt, min_overlap=min_overlap, table=table)
    n = count_instances(labels)
    return Redecoded(labels, errors, scores, n, time.perf_counter() - start)


def describe_result(result: Redecoded) -> str:
    """One line for the widget: instances, time and scores."""
    text = f"{result.n_instances} instances in {result.seconds:.2f} s"
    if result.scores is not None:
        s = result.scores
        text += (
            f"\nF1@0.5 {s['f1@0.5']:.3f}  seg. foreground IoU {s['fg_iou']:.3f}"
            f"\nARE {s['are_ignore_bg']:.4f} (bg ignored; precision {s['precision']:.4f}, "
            f"recall {s['recall']:.4f})  ARE {s['are_with_bg']:.4f} (bg counted)"
        )
    return text


class LatestOnly:
    """Run one job at a time; while one runs, keep only the newest request.

    ``request(x)`` returns ``x`` when it may start now, else stores it and returns None;
    ``finished()`` returns the stored request to start next (or None and goes idle).
    """

    def __init__(self) -> None:
        self.running = False
        self._pending: Any = None
        self._has_pending = False

    def request(self, job: Any) -> Any:
        if self.running:
            self._pending, self._has_pending = job, True
            return None
        self.running = True
        return job

    def finished(self) -> Any:
        if self._has_pending:
            job, self._pending, self._has_pending = self._pending, None, False
            return job
        self.running = False
        return None
