"""MONAI's (and so PyTorch Connectomics') loss arguments, where volseg's losses mean the same.

PyTorch Connectomics configs pass MONAI keyword arguments to the losses (``sigmoid: true``,
``smooth_nr``, ``smooth_dr``, ``batch``, ``include_background``, ``reduction``). volseg's
Dice, Tversky and focal losses compute MONAI's formulas (tested equal to
``monai.losses`` to 1e-6 on unmasked input) and add the ignore mask MONAI lacks, so these
arguments are accepted with MONAI's meaning; the ones that would change what volseg computes
into something it does not do (softmax, one-hot targets, ``sum``/``none`` reductions) are
refused with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from volseg.errors import VolsegError

if TYPE_CHECKING:  # the config checks call this module without importing torch
    import torch

#: MONAI's names of the arguments :func:`check_monai` judges, per volseg loss.
MONAI_FLAGS = ("sigmoid", "softmax", "to_onehot_y", "use_softmax", "reduction")


def smoothing(
    name: str, smooth: float | None, smooth_nr: float | None, smooth_dr: float | None
) -> tuple[float, float]:
    """Numerator and denominator smoothing from volseg's ``smooth`` or MONAI's pair."""
    if smooth is not None and (smooth_nr is not None or smooth_dr is not None):
        raise VolsegError(f"{name}: give smooth or smooth_nr/smooth_dr (MONAI's names), not both.")
    default = 1e-5 if smooth is None else float(smooth)
    nr = default if smooth_nr is None else float(smooth_nr)
    dr = default if smooth_dr is None else float(smooth_dr)
    if nr < 0 or dr < 0:
        raise VolsegError(f"{name}: smoothing must be >= 0, got {nr} and {dr}.")
    return nr, dr


def check_monai(
    name: str,
    *,
    sigmoid: bool = True,
    softmax: bool = False,
    to_onehot_y: bool = False,
    reduction: str = "mean",
) -> None:
    """Refuse MONAI settings volseg has no equivalent for, naming what to use instead."""
    if not sigmoid:
        raise VolsegError(
            f"{name}: sigmoid=false is not supported; volseg applies each head's sigmoid before "
            "the loss, as MONAI does with sigmoid=true (remove the option)."
        )
    if softmax or to_onehot_y:
        raise VolsegError(
            f"{name}: softmax / to_onehot_y (multi-class one-hot targets) are not supported; "
            "volseg trains one sigmoid channel per target (binary, instance_boundary, ...)."
        )
    if reduction != "mean":
        raise VolsegError(
            f"{name}: reduction={reduction!r} is not supported; volseg's losses are means over "
            "valid voxels (MONAI's 'mean')."
        )


def check_loss_kwargs(name: str, kwargs: Mapping[str, Any]) -> None:
    """The config-time form of the checks the losses make (no torch needed)."""
    flags = {k: v for k, v in kwargs.items() if k in MONAI_FLAGS}
    if "use_softmax" in flags:
        flags["softmax"] = flags.pop("use_softmax")
    check_monai(name, **flags)
    if "smooth" in kwargs and ("smooth_nr" in kwargs or "smooth_dr" in kwargs):
        smoothing(name, kwargs["smooth"], kwargs.get("smooth_nr"), kwargs.get("smooth_dr"))


def drop_background(include_background: bool, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """MONAI's ``include_background=False``: drop channel 0 when there is more than one."""
    if include_background or tensors[0].shape[1] < 2:
        return tensors
    return tuple(t[:, 1:] for t in tensors)
