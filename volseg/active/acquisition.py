"""Region scores for annotation (higher = annotate first) and k-center selection.

For a binary foreground map ``p`` every per-voxel uncertainty (``1 - max(p, 1-p)``, the binary
entropy, the margin ``|2p - 1|``) is a monotone function of ``|p - 0.5|``: ranked per voxel
they agree. The region scores therefore differ in how they *aggregate* the region, so that
each asks its own question (an earlier study's uncertainty, entropy and margin strategies
scored regions by the mean of such monotone maps and picked nearly identical samples):

``least_confidence``
    quantile: the ``LC_QUANTILE`` (95th) percentile of ``1 - max(p, 1-p)``, "how unsure are the
    region's most unsure voxels" (a region with a few very unsure voxels scores high).
``entropy``
    mean: the mean binary entropy (bits) over the region, "how unsure is the region overall".
``margin``
    count: the fraction of voxels whose margin ``|2p - 1|`` is below ``MARGIN_BAND`` (0.5, i.e.
    0.25 < p < 0.75), "how much of the region is ambiguous", blind to how ambiguous.
``tta``
    the mean over voxels of the variance of ``p`` across test-time-augmentation views (the
    views as an ensemble).
``random``
    one uniform number per region from ``numpy.random.default_rng(seed)``.
``diversity``
    k-center greedy (core-set) on one pooled feature vector per region.
``hybrid``
    k-center greedy where a candidate's distance to the chosen set is multiplied by its
    entropy score divided by the pool's largest (uncertainty-weighted diversity); the first
    pick is the most uncertain region.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from volseg.errors import VolsegError

UNCERTAINTY = ("least_confidence", "entropy", "margin")
STRATEGIES = ("random", *UNCERTAINTY, "tta", "diversity", "hybrid")
#: Strategies that need pooled features of one layer.
FEATURE_STRATEGIES = ("diversity", "hybrid")
LC_QUANTILE = 95.0
MARGIN_BAND = 0.5


def check_strategy(name: str) -> str:
    if name not in STRATEGIES:
        raise VolsegError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}.")
    return name


def least_confidence(p: np.ndarray) -> float:
    """The ``LC_QUANTILE`` percentile of ``1 - max(p, 1 - p)`` over the region."""
    p = np.asarray(p, dtype=np.float64)
    return float(np.percentile(np.minimum(p, 1.0 - p), LC_QUANTILE))


def entropy(p: np.ndarray) -> float:
    """The mean binary entropy of ``p`` in bits (0 where p is 0 or 1)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log2(p) + (1 - p) * np.log2(1 - p))
    return float(np.nan_to_num(h, nan=0.0).mean())


def margin(p: np.ndarray, *, band: float = MARGIN_BAND) -> float:
    """The fraction of voxels with margin ``|2p - 1| < band``."""
    p = np.asarray(p, dtype=np.float64)
    return float((np.abs(2.0 * p - 1.0) < band).mean())


def tta_disagreement(views: np.ndarray) -> float:
    """The mean over voxels of the variance across views (axis 0) of ``p``."""
    views = np.asarray(views, dtype=np.float64)
    if views.shape[0] < 2:
        raise VolsegError("TTA disagreement needs at least two views.")
    return float(views.var(axis=0).mean())


SCORERS = {"least_confidence": least_confidence, "entropy": entropy, "margin": margin}


def random_scores(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


def k_center(
    features: np.ndarray,
    k: int,
    *,
    weights: np.ndarray | None = None,
    chosen: Sequence[int] = (),
) -> tuple[list[int], list[float]]:
    """Greedy k-center: ``k`` more rows of ``features`` ``(n, d)``, each the farthest
    (Euclidean, after standardising every column) from those ``chosen`` before (the labelled
    set) and picked so far, its distance multiplied by ``weights`` when given. With nothing
    chosen, the first pick is the row nearest the pool's mean (no weights) or the largest
    weight. Returns the picks and their gains (a first pick's: its weight or 0)."""
    x = np.asarray(features, dtype=np.float64)
    n = x.shape[0]
    taken = [int(c) for c in chosen]
    k = min(int(k), n - len(taken))
    std = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    picks: list[int] = []
    gains: list[float] = []
    if not taken and k > 0:
        first = int(np.argmin((x**2).sum(axis=1)) if weights is None else np.argmax(w))
        picks, gains = [first], [0.0 if weights is None else float(w[first])]
    dist = np.full(n, np.inf)
    for c in taken + picks:
        dist = np.minimum(dist, np.sqrt(((x - x[c]) ** 2).sum(axis=1)))
    while len(picks) < k:
        score = dist * w
        score[taken + picks] = -np.inf
        nxt = int(np.argmax(score))
        picks.append(nxt)
        gains.append(float(score[nxt]))
        dist = np.minimum(dist, np.sqrt(((x - x[nxt]) ** 2).sum(axis=1)))
    return picks, gains


def order_by_score(scores: Sequence[float]) -> list[int]:
    """Indices by descending score; ties keep the tiling order."""
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")]
