"""Test-time augmentation: flips of spatial axes, in-plane rot90, per-channel activations.

A *view* flips some spatial axes (0 = z, 1 = y, 2 = x) and then rotates by ``k`` quarter turns
in the (y, x) plane. The network sees the transformed window; its output is transformed back
(rotation undone first, then the flips) so every view predicts in the original orientation.
Only tensor axes 2, 3, 4 of ``(batch, channel, z, y, x)`` are ever touched: the channel axis is
never flipped (PyTorch Connectomics flipped it, scrambling multi-channel outputs).

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
    """The views to ensemble (identity first) and how."""

    views: tuple[View, ...] = (View(),)
    ensemble: str = "mean"


def make_tta(
    flip_axes: Sequence[Sequence[int]] = (), *, rotate90: bool = False, ensemble: str = "mean"
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
    return TTA(tuple(views), ensemble)


def tta_from_config(tta_cfg: Any) -> TTA | None:
    """The :class:`TTA` of ``inference.test_time_augmentation``; ``None`` when disabled."""
    if not tta_cfg.enabled:
        return None
    flip_axes = [list(e) if not isinstance(e, int) else [e] for e in tta_cfg.flip_axes]
    return make_tta(flip_axes, rotate90=bool(tta_cfg.rotate90), ensemble=str(tta_cfg.ensemble_mode))


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
