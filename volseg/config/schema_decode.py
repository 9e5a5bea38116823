"""The ``test`` (decoding, evaluation) and ``tune`` (threshold sweep) sections.

Decoder kwargs are checked against :data:`DECODER_KWARGS`: an unknown kwarg is an error
(PyTorch Connectomics dropped them silently). Thresholds on probability maps lie in [0, 1];
``[seed, fg]`` pairs hold the threshold for seeds and for the foreground mask, and a ``null``
element (or a ``null`` pair) means that map is not used for that purpose. Connectivity is
6, 18 or 26 (face, edge, corner neighbours).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from volseg.config.fields import CONNECTIVITY, PROB, Param, param, spec

_PROB_PAIR = param(list[float | None] | None, length=2, **PROB)

#: Keyword arguments each decoder accepts in ``test.decoding[*].kwargs``.
DECODER_KWARGS: dict[str, dict[str, Param]] = {
    "contour_distance": {
        "binary_threshold": _PROB_PAIR,
        "contour_threshold": _PROB_PAIR,
        "distance_threshold": param(list[float | None] | None, length=2, lo=-1.0, hi=1.0),
        "min_seed_size": param(int, lo=0),
        "min_instance_size": param(int, lo=0),
        "channels": param(list[int | None], length=3, lo=0),
        "mode": param(str, choices=("watershed", "cc")),
        "connectivity": param(int, choices=CONNECTIVITY),
        "seed_connectivity": param(int, choices=CONNECTIVITY),
        "contour_ridge": param(bool),
        "levels": param(int, lo=2, hi=65536),
        "parallel": param(bool),
    },
    "watershed": {
        "channel": param(int, lo=0),
        "invert": param(bool),
        "threshold": param(float | None, **PROB),
        "h": param(float | None, lo=0.0),
        "min_seed_size": param(int, lo=0),
        "min_instance_size": param(int, lo=0),
        "connectivity": param(int, choices=CONNECTIVITY),
        "mask_threshold": param(float | None, **PROB),
    },
    "cc": {
        "channel": param(int, lo=0),
        "threshold": param(float, **PROB),
        "connectivity": param(int, choices=CONNECTIVITY),
        "min_instance_size": param(int, lo=0),
    },
}
_AFFINITY = {
    "channels": param(list[int] | None, lo=0, min_length=1),
    "offsets": param(str | list[list[int]] | None, min_length=1),
    "min_instance_size": param(int, lo=0),
}
DECODER_KWARGS.update({
    "affinity_cc": {**_AFFINITY, "threshold": param(float, **PROB)},
    "agglomerate": {
        **_AFFINITY,
        "threshold": param(float, **PROB),
        "merge_function": param(str, choices=("mean", "quantile")),
        "quantile": param(int, choices=tuple(range(10, 100, 5))),
        "fragments_low": param(float, **PROB),
        "fragments_high": param(float, **PROB),
    },
    "mutex_watershed": {
        **_AFFINITY,
        "bias": param(float, **PROB),
        "long_range_bias": param(float, **PROB),
        "strides": param(list[int] | None, length=3, lo=1),
    },
})  # fmt: skip
#: Score groups of ``test.evaluation.metrics`` (:data:`volseg.metrics.evaluate.GROUPS`).
METRICS = ("adapted_rand", "voi", "match_instances", "semantic")
#: Sweep objectives (:data:`volseg.metrics.objectives.OBJECTIVES`; a test keeps them equal).
OBJECTIVE_NAMES = ("are_ignore_bg", "are_with_bg", "voi", "f1@0.5", "f1@0.75", "ap@0.5",
                   "ap@0.75", "fg_iou", "fg_dice")  # fmt: skip


@dataclass
class TestDataConfig:
    """Volumes to decode and score (paths as in ``data``)."""

    __test__ = False  # a schema, not a pytest class

    test_image: list[str] = spec(factory=list, path="many")
    test_label: list[str] = spec(factory=list, path="many")
    test_mask: list[str] = spec(factory=list, path="many")


@dataclass
class DecoderConfig:
    """One decoding step: ``name`` and its kwargs (see :data:`DECODER_KWARGS`)."""

    name: str = spec("contour_distance", choices=tuple(DECODER_KWARGS))
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvaluationConfig:
    """Scores to compute; instances below ``min_instance_size`` voxels are dropped first."""

    metrics: list[str] = spec(factory=lambda: ["adapted_rand", "voi"], choices=METRICS)
    iou_thresholds: list[float] = spec(
        factory=lambda: [0.5, 0.75], lo=0.0, hi=1.0, lo_open=True, min_length=1
    )
    min_instance_size: int = spec(0, lo=0)


@dataclass
class TestConfig:
    """Decoding and evaluation of predicted maps."""

    __test__ = False  # a schema, not a pytest class

    data: TestDataConfig = field(default_factory=TestDataConfig)
    decoding: list[DecoderConfig] = field(default_factory=lambda: [DecoderConfig()])
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)


@dataclass
class TuneConfig:
    """Decoder-parameter sweep. ``parameters`` maps a kwarg of ``decoder`` (``h``) or one
    element of a pair kwarg (``binary_threshold.0``) to a list of values or to
    ``{low, high, num}`` (``num`` evenly spaced values). ``grid`` tries every combination,
    ``random`` ``num_samples`` of them; the best by ``metric`` wins (null: ``f1@0.5`` where
    ground-truth background is most of the scored voxels, else ``are_ignore_bg``)."""

    decoder: str = spec("contour_distance", choices=tuple(DECODER_KWARGS))
    parameters: dict[str, Any] = field(default_factory=dict)
    method: str = spec("grid", choices=("grid", "random"))
    num_samples: int = spec(50, lo=1)
    metric: str | None = spec(None, choices=OBJECTIVE_NAMES)
    workers: int = spec(2, lo=1)
