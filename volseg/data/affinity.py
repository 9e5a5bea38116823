"""Affinity targets: ``affinities(labels, offsets, mask=None)``.

Channel ``k`` at voxel ``v`` is 1 where ``labels[v] == labels[v + offsets[k]]`` and that label is
non-zero, 0 where they differ or are both background, and -1 (ignore) where ``v + offsets[k]``
lies outside the volume or either voxel of the pair is masked out. See :mod:`volseg.offsets`
for the offset convention.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from volseg.errors import VolsegError


def _pair_slices(offset: Sequence[int], shape: Sequence[int]) -> tuple[tuple, tuple] | None:
    """Slices selecting ``v`` and ``v + offset`` over every ``v`` whose partner is inside."""
    here, there = [], []
    for step, size in zip(offset, shape, strict=True):
        step = int(step)
        if abs(step) >= size:
            return None
        here.append(slice(max(0, -step), size - max(0, step)))
        there.append(slice(max(0, step), size - max(0, -step)))
    return tuple(here), tuple(there)


def affinities(labels: Any, offsets: Sequence[Sequence[int]], *, mask: Any = None) -> np.ndarray:
    """Affinity maps of a label volume for voxel offsets.

    Args:
        labels: integer ``(z, y, x)`` labels, 0 = background.
        offsets: ``(dz, dy, dx)`` voxel offsets, one channel each.
        mask: optional boolean ``(z, y, x)``, False = ignore; a pair touching it is -1.

    Returns:
        float32 ``(len(offsets), z, y, x)`` with values 1, 0 and -1 (ignore).
    """
    labels = np.asarray(labels)
    if labels.ndim != 3:
        raise VolsegError(f"affinity labels must be a (z, y, x) volume, got shape {labels.shape}.")
    valid = None if mask is None else np.asarray(mask, dtype=bool)
    if valid is not None and valid.shape != labels.shape:
        raise VolsegError(f"mask shape {valid.shape} does not match labels shape {labels.shape}.")
    out = np.full((len(offsets), *labels.shape), -1.0, dtype=np.float32)
    for k, offset in enumerate(offsets):
        if len(offset) != 3:
            raise VolsegError(f"affinity offset {k} must be [dz, dy, dx], got {list(offset)}.")
        pair = _pair_slices(offset, labels.shape)
        if pair is None:
            continue  # no voxel has its partner inside: the whole channel is ignored
        here, there = pair
        a, b = labels[here], labels[there]
        channel = out[k][here]
        channel[...] = (a == b) & (a != 0)
        if valid is not None:
            channel[~(valid[here] & valid[there])] = -1.0
    return out
