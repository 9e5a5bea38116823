"""Voxel sizes never silently disagree: a file's own metadata against a configured value, and
an image against its labels.

- :func:`agreed_voxel_size`: the file's metadata wins when it has some; a configured value
  fills in for a file without any; a configured value that contradicts the file is an error
  naming both (the config's ``data.voxel_size`` describes the training data, and
  ``inference.voxel_size`` the image to predict, never a different grid).
- :func:`check_same_voxel_size`: two volumes read together (image and labels, segmentation and
  ground truth) must be on the same grid when both files record one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from volseg.errors import VolsegError
from volseg.io.volume import Triple, Volume, as_triple

RTOL = 1e-3  # metadata round trips (um <-> nm, float32) change the last digits only


def recorded_voxel_size(volume: Volume) -> Triple | None:
    """The voxel size the file itself records (None when it records none)."""
    source = volume.attrs.get("voxel_size_source", "default")
    return None if source in ("default", "argument") else volume.voxel_size


def agreed_voxel_size(volume: Volume, given: Any, *, key: str) -> Triple | None:
    """The voxel size to use for ``volume`` (opened without an explicit voxel size).

    Args:
        volume: the volume, opened from its file.
        given: a configured voxel size (nm, z y x) or None.
        key: the config key of ``given``, for the message.

    Returns:
        The file's voxel size, else ``given``, else None (neither says).

    Raises:
        VolsegError: ``given`` contradicts the file's metadata.
    """
    found = recorded_voxel_size(volume)
    wanted = None if given is None else as_triple(given, name=key)
    if found is not None and wanted is not None and not np.allclose(found, wanted, rtol=RTOL):
        raise VolsegError(
            f"{key} {list(wanted)} nm contradicts {volume.path}, whose metadata say "
            f"{list(found)} nm; remove {key} or correct the file's metadata."
        )
    return found if found is not None else wanted


def check_same_voxel_size(a: Volume, b: Volume, names: tuple[str, str]) -> None:
    """Refuse two volumes whose files record different voxel sizes.

    Raises:
        VolsegError: both files record a voxel size and they differ (both are named).
    """
    size_a, size_b = recorded_voxel_size(a), recorded_voxel_size(b)
    if size_a is None or size_b is None or np.allclose(size_a, size_b, rtol=RTOL):
        return
    raise VolsegError(
        f"{names[0]} {a.path} is at {list(size_a)} nm but {names[1]} {b.path} is at "
        f"{list(size_b)} nm; they must be on the same grid (resample one, or fix its metadata)."
    )
