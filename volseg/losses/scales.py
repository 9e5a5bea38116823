"""Targets, validity and weight maps at the resolution of each deep-supervision output.

Float targets are box-averaged (``area`` interpolation, the anti-aliased form of trilinear
down-sampling) and validity is min-pooled over exactly the same windows: a coarse voxel is
valid only if every fine voxel under it is valid, so ignored voxels (value -1 or outside the
mask) are never averaged into a valid coarse voxel. Ignored voxels are zero-filled before
averaging; they only reach coarse voxels that are themselves invalid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _min_pool(valid: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    pool = F.adaptive_max_pool3d if valid.ndim == 5 else F.adaptive_max_pool2d
    return -pool(-valid, size)


def resize_pair(
    target: torch.Tensor, valid: torch.Tensor, size: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Down-sample a float target and its 0/1 validity to spatial ``size``.

    Args:
        target: ``(b, c, *spatial)`` float target.
        valid: same shape, 1 = valid, 0 = ignored.
        size: output spatial shape.

    Returns:
        ``(target, valid)`` at ``size``; unchanged when the size already matches.
    """
    if tuple(target.shape[2:]) == tuple(size):
        return target, valid
    filled = torch.where(valid > 0, target, torch.zeros_like(target))
    return F.interpolate(filled, size=size, mode="area"), _min_pool(valid, size)


def resize_weight(weight: torch.Tensor, size: tuple[int, ...]) -> torch.Tensor:
    """Box-average a per-voxel weight map to spatial ``size``."""
    if tuple(weight.shape[2:]) == tuple(size):
        return weight
    return F.interpolate(weight, size=size, mode="area")
