"""Pseudo-labels from predicted maps: confident foreground, confident background, ignored.

:func:`pseudo_labels` is pure: foreground probability ``p = maps[0]``; a voxel is
pseudo-foreground where ``p >= t_hi``, pseudo-background where ``p <= t_lo`` and ignored
(``mask`` False) in between. With a decoder, the foreground carries the decoder's instances
(the dataset rebuilds the boundary and distance targets from them); foreground voxels the
decoder left as background (dropped small objects) are ignored too, never background. Without
one, the foreground is label 1 (a semantic task).

:func:`write_pseudo` stores them as an OME-Zarr label store that trains (``labels/pseudo``,
``labels/mask``) and opens in ``volseg view`` beside the image it records as its input.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

LABELS_KEY = "labels/pseudo"
MASK_KEY = "labels/mask"


def pseudo_labels(
    maps: np.ndarray,
    *,
    t_hi: float,
    t_lo: float,
    decoder: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(labels uint32, mask bool)`` of float maps ``(c, z, y, x)`` (see the module)."""
    if not t_lo < t_hi:
        raise ValueError(f"t_lo {t_lo} must be below t_hi {t_hi}")
    p = np.asarray(maps[0], dtype=np.float32)
    fg, bg = p >= t_hi, p <= t_lo
    if decoder is None:
        labels = fg.astype(np.uint32)
    else:
        from volseg.decode.registry import decode

        labels = np.asarray(decode(np.asarray(maps, dtype=np.float32), decoder, params))
        labels = labels.astype(np.uint32, copy=False)
        labels[bg] = 0
    mask = bg | (fg & (labels > 0))
    return labels, mask


def write_pseudo(
    path: str | os.PathLike,
    labels: np.ndarray,
    mask: np.ndarray,
    *,
    voxel_size: Any,
    image: str | os.PathLike,
    attrs: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Write ``labels`` and ``mask`` into a new store ``path``; return their two paths (as
    ``data.train_label`` / ``train_mask`` take them). ``image`` is recorded as its input."""
    from volseg.infer.segment import record_inputs
    from volseg.io import write_volume

    root = Path(path)
    extra = dict(attrs or {})
    write_volume(root, labels, voxel_size=voxel_size, kind="labels", key=LABELS_KEY, attrs=extra)
    write_volume(root, mask.astype(np.uint8), voxel_size=voxel_size, kind="mask", key=MASK_KEY)
    record_inputs(root, image=image)
    return f"{root}/{LABELS_KEY}", f"{root}/{MASK_KEY}"
