"""Test-time augmentation: flips of spatial axes, in-plane rot90, per-channel activations.

A *view* flips some spatial axes (0 = z, 1 = y, 2 = x) and then rotates by ``k`` quarter turns
in the (y, x) plane. The network sees the transformed window; its output is transformed back
(rotation undone first, then the flips) so every view predicts in the original orientation.
Only tensor axes 2, 3, 4 of ``(batch, channel, z, y, x)`` are ever touched: the channel axis is
never flipped (PyTorch Connectomics flipped it, scrambling multi-channel outputs).

Affinity channels need more than that: a view predicts the pair ``(u, u + o)`` in its own
frame, which is the pair ``(q, q + o')`` of the original frame with ``o'`` the offset turned
back. A rotation turns one offset into another of the set (its channel is taken from there);
a flip reverses it, ``(q, q - o)``, which is the pair of channel ``o`` at ``q - o`` (the
channel is shifted by its offset). :func:`affinity_inverse` does both; PyTorch Connectomics'
TTA flipped affinities back without the shift, scoring every pair one voxel off.

Output activations (sigmoid for probabilities, tanh for distances) are applied to every view
*before* the views are ensembled (mean, min or max), so a min/max ensemble compares
probabilities, not logits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from volseg.errors import VolsegError

ENSEMBLE_MODES = ("mean", "min", "max")


@dataclass(frozen=True)
class View:
    """One augmentation: flip ``flips`` (spatial axes), then ``k`` quarter turns in (y, x)."""

    flips: tuple[int, ...] = ()
    k: int = 0

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Transform a ``(b, c, z, y, x)`` tensor into this view."""
        if self.flips:
            x = torch.flip(x, dims=[a + 2 for a in self.flips])
        if self.k:
            x = torch.rot90(x, self.k, dims=(3, 4))
        return x

    def invert(self, y: torch.Tensor) -> torch.Tensor:
        """Transform a ``(b, c, z, y, x)`` prediction of this view back to the original frame."""
        if self.k:
            y = torch.rot90(y, -self.k, dims=(3, 4))
        if self.flips:
            y = torch.flip(y, dims=[a + 2 for a in self.flips])
        return y


@dataclass(frozen=True)
class TTA:
    """The views to ensemble (identity first) and how; ``affinity`` lists the output channels
    that hold affinities and their voxel offsets, ``((channel, (dz, dy, dx)), ...)``."""

    views: tuple[View, ...] = (View(),)
    ensemble: str = "mean"
    affinity: tuple[tuple[int, tuple[int, int, int]], ...] = ()


def turned_back(view: View, offset: Sequence[int]) -> tuple[int, int, int]:
    """The original-frame offset of a pair the view's frame calls ``offset``."""
    reach = max(abs(int(v)) for v in offset)
    size = 2 * reach + 1
    marks = torch.zeros((1, 1, size, size, size))
    centre = (reach, reach, reach)
    marks[(0, 0, *centre)] = 1
    marks[(0, 0, *(c + int(o) for c, o in zip(centre, offset, strict=True)))] = 2
    back = view.invert(marks)[0, 0]
    start = torch.nonzero(back == 1)[0]
    end = torch.nonzero(back == 2)[0]
    return tuple(int(e - s) for s, e in zip(start, end, strict=True))  # type: ignore[return-value]


def affinity_inverse(y: torch.Tensor, view: View, affinity: Sequence[Any]) -> torch.Tensor:
    """Move a back-transformed view's affinity channels onto the pairs they describe."""
    if not affinity or (not view.flips and not view.k):
        return y
    by_offset = {tuple(o): c for c, o in affinity}
    out = y.clone()
    for c, o in affinity:
        o2 = turned_back(view, o)
        if o2 in by_offset:  # the same pairs as channel by_offset[o2]
            out[:, by_offset[o2]] = y[:, c]
            continue
        flipped = tuple(-v for v in o2)
        if flipped not in by_offset:
            raise VolsegError(
                f"test-time augmentation turns affinity offset {list(o)} into {list(o2)}, which "
                "the model does not predict; use flips only, or offsets symmetric in (y, x)."
            )
        # value at q is the pair (q, q - o_j) = the pair of channel j at q - o_j
        j = by_offset[flipped]
        src = [slice(None)] * 2
        dst = [slice(None)] * 2
        for d in flipped:
            d = int(d)
            src.append(slice(None, d) if d < 0 else slice(d, None))
            dst.append(slice(-d, None) if d < 0 else slice(None, -d if d else None))
        out[:, j] = y[:, c]  # where q - o_j leaves the window: the unshifted value
        out[(slice(None), j, *dst[2:])] = y[(slice(None), c, *src[2:])]
    return out


def make_tta(
    flip_axes: Sequence[Sequence[int]] = (),
    *,
    rotate90: bool = False,
    ensemble: str = "mean",
    affinity: Sequence[Any] = (),
) -> TTA:
    """Views: the identity plus one per ``flip_axes`` entry; with ``rotate90`` each of them
    also rotated by 90, 180 and 270 degrees in (y, x). Duplicates are dropped.

    Raises:
        VolsegError: an axis outside 0..2 (only spatial axes may be flipped) or a bad mode.
    """
    if ensemble not in ENSEMBLE_MODES:
        raise VolsegError(
            f"inference.test_time_augmentation.ensemble_mode must be one of "
            f"{', '.join(ENSEMBLE_MODES)}, got {ensemble!r}."
        )
    flip_sets: list[tuple[int, ...]] = [()]
    for entry in flip_axes:
        axes = [entry] if isinstance(entry, int) else list(entry)
        for a in axes:
            if isinstance(a, bool) or not isinstance(a, int) or a not in (0, 1, 2):
                raise VolsegError(
                    "inference.test_time_augmentation.flip_axes lists spatial axes 0 (z), 1 (y), "
                    f"2 (x) only (the channel axis is never flipped), got {list(flip_axes)!r}."
                )
        flip_sets.append(tuple(sorted(set(axes))))
    views: list[View] = []
    for flips in flip_sets:
        for k in range(4) if rotate90 else (0,):
            view = View(flips, k)
            if view not in views:
                views.append(view)
    pairs = tuple((int(c), tuple(int(v) for v in o)) for c, o in affinity)
    for view in views:  # refuse a view that turns an offset out of the set, before any work
        affinity_inverse(torch.zeros((1, max((c for c, _ in pairs), default=0) + 1, 1, 1, 1)),
                         view, pairs)  # fmt: skip
    return TTA(tuple(views), ensemble, pairs)  # type: ignore[arg-type]


def tta_from_config(tta_cfg: Any, *, affinity: Sequence[Any] = ()) -> TTA | None:
    """The :class:`TTA` of ``inference.test_time_augmentation``; ``None`` when disabled.
    ``affinity``: ``(channel, offset)`` of each affinity output channel."""
    if not tta_cfg.enabled:
        return None
    flip_axes = [list(e) if not isinstance(e, int) else [e] for e in tta_cfg.flip_axes]
    return make_tta(flip_axes, rotate90=bool(tta_cfg.rotate90),
                    ensemble=str(tta_cfg.ensemble_mode), affinity=affinity)  # fmt: skip


def activate_channels(y: torch.Tensor, activations: Sequence[str] | None) -> torch.Tensor:
    """Apply one activation per channel (axis 1) via ``volseg.models.heads.activate``."""
    if activations is None:
        return y
    from volseg.models.heads import activate

    if len(activations) != y.shape[1]:
        raise VolsegError(
            f"{len(activations)} channel activations given but the model predicts "
            f"{y.shape[1]} channels."
        )
    parts, start = [], 0
    for end in range(1, len(activations) + 1):  # runs of equal activations
        if end == len(activations) or activations[end] != activations[start]:
            parts.append(activate(y[:, start:end], activations[start]))
            start = end
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def _forward(model: Any, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if isinstance(out, list | tuple):  # deep supervision outside eval mode: full resolution
        out = out[0]
    return out


def predict_views(
    model: Any,
    x: torch.Tensor,
    *,
    tta: TTA | None = None,
    activations: Sequence[str] | None = None,
) -> torch.Tensor:
    """Activated prediction of ``x`` ``(b, c, z, y, x)``, ensembled over the TTA views."""
    if tta is None:
        return activate_channels(_forward(model, x), activations).float()
    out: torch.Tensor | None = None
    for view in tta.views:
        y = activate_channels(view.invert(_forward(model, view.apply(x))), activations).float()
        y = affinity_inverse(y, view, tta.affinity)
        if out is None:
            out = y.clone() if tta.ensemble != "mean" else y
        elif tta.ensemble == "mean":
            out = out + y
        elif tta.ensemble == "min":
            out = torch.minimum(out, y)
        else:
            out = torch.maximum(out, y)
    assert out is not None
    return out / len(tta.views) if tta.ensemble == "mean" else out
