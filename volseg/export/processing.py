"""volseg's normalisation and output activations as BioImage Model Zoo processing steps.

Pre-processing (``data.image_transform``; percentiles are fractions in volseg, percent in the
spec), with statistics over each sample's channels and space jointly, as volseg takes them over
the whole volume:

- ``0-1``: ``scale_range`` (low and high percentile to 0 and 1) then ``clip`` to [0, 1];
- ``zscore``: ``clip`` at the percentiles (left out at 0 and 100) then
  ``zero_mean_unit_variance``;
- ``none``: no step.

Where they differ from ``volseg predict`` (said in the package's README):

- volseg estimates the statistics once per volume from a bounded sample of evenly spread blocks
  (up to 8 M voxels); the spec takes them over the sample given to the model, i.e. the whole
  image (one z-slice for a 2D network run slice by slice);
- ``zscore`` with clipping: volseg takes mean and std of the clipped values, the spec's
  ``zero_mean_unit_variance`` those of the image before any step (bioimageio.core computes a
  sample's statistics before it applies the first step, and the spec has no step that computes
  statistics of a processed tensor). Without clipping (percentiles 0 and 1, the tutorials'
  setting) the two agree;
- the spec divides by ``range + 1e-6`` / ``std + 1e-6``, volseg by ``max(range, 1e-8)`` /
  ``max(std, 1e-8)``.

:func:`normalize_as_package` computes what the steps compute (numpy, for the test output).

Post-processing: the spec has ``sigmoid`` but no ``tanh``. When every output channel is a
probability the network returns logits and ``sigmoid`` is the post-processing step; when a
distance channel (``tanh``) is among them the exported network applies every channel's
activation itself (:mod:`volseg.export.network`) and there is no post-processing step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from volseg.errors import VolsegError

#: The spec's epsilon in ``scale_range`` and ``zero_mean_unit_variance``.
EPS = 1e-6


def preprocessing(transform: Any, axes: Sequence[str]) -> list[Any]:
    """Spec steps for ``data.image_transform`` with statistics over ``axes`` jointly."""
    from bioimageio.spec.model import v0_5 as spec

    mode = str(transform.normalize)
    low = 100.0 * float(transform.clip_percentile_low)
    high = 100.0 * float(transform.clip_percentile_high)
    ids = [spec.AxisId(a) for a in axes]
    if mode == "none":
        return []
    if high <= 1.0:
        raise VolsegError(
            "data.image_transform.clip_percentile_high must be above 0.01 to be exported (the "
            f"BioImage Model Zoo takes upper percentiles above 1 %), got {high / 100}."
        )
    if mode == "0-1":
        return [
            spec.ScaleRangeDescr(
                kwargs=spec.ScaleRangeKwargs(axes=ids, min_percentile=low, max_percentile=high)
            ),
            spec.ClipDescr(kwargs=spec.ClipKwargs(min=0.0, max=1.0)),
        ]
    if mode == "zscore":
        steps: list[Any] = []
        clip: dict[str, float] = {}
        if low > 0.0:
            clip["min_percentile"] = low
        if high < 100.0:
            clip["max_percentile"] = high
        if clip:
            steps.append(spec.ClipDescr(kwargs=spec.ClipKwargs(axes=ids, **clip)))
        steps.append(
            spec.ZeroMeanUnitVarianceDescr(kwargs=spec.ZeroMeanUnitVarianceKwargs(axes=ids))
        )
        return steps
    raise VolsegError(f"data.image_transform.normalize {mode!r} cannot be exported.")


def split_activations(activations: Sequence[str]) -> tuple[list[Any], list[str]]:
    """``(post-processing steps, activations the network applies)`` (see the module
    docstring)."""
    from bioimageio.spec.model import v0_5 as spec

    if all(a == "sigmoid" for a in activations):
        return [spec.SigmoidDescr()], []
    return [], list(activations)


def describe_preprocessing(transform: Any) -> str:
    """One Markdown sentence on the normalisation, for the README."""
    mode = str(transform.normalize)
    low, high = float(transform.clip_percentile_low), float(transform.clip_percentile_high)
    bounds = f"the {100 * low:g}th and {100 * high:g}th percentiles"
    if mode == "0-1":
        return f"intensities scaled so that {bounds} map to 0 and 1, then clipped to [0, 1]"
    if mode == "zscore":
        clipped = "" if (low, high) == (0.0, 1.0) else f"clipped at {bounds}, then "
        return f"intensities {clipped}shifted and scaled to zero mean and unit variance"
    return "raw intensities (no normalisation)"


def clips_before_zscore(transform: Any) -> bool:
    """True for ``zscore`` with clipping, the one mode the package computes differently."""
    bounds = (float(transform.clip_percentile_low), float(transform.clip_percentile_high))
    return str(transform.normalize) == "zscore" and bounds != (0.0, 1.0)


def normalize_as_package(raw: np.ndarray, transform: Any) -> np.ndarray:
    """What the package's pre-processing steps make of one sample ``raw``; float32.

    As bioimageio.core 0.11 computes them: statistics over the whole sample, taken before any
    step; ``scale_range`` percentiles interpolated linearly (as volseg's), ``clip`` percentiles
    by the inverted CDF (the sample value at or above the rank).
    """
    mode = str(transform.normalize)
    x = np.asarray(raw, dtype=np.float64)
    low, high = float(transform.clip_percentile_low), float(transform.clip_percentile_high)
    if mode == "0-1":
        lo, hi = np.quantile(x, [low, high])
        out = np.clip((x - lo) / (hi - lo + EPS), 0.0, 1.0)
    elif mode == "zscore":
        lo, hi = np.quantile(x, [low, high], method="inverted_cdf")
        out = (np.clip(x, lo, hi) - x.mean()) / (x.std() + EPS)
    else:
        out = x
    return out.astype(np.float32)
