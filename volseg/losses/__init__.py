"""Losses: Dice, (weighted) BCE, focal, Tversky, smooth L1, MSE; multi-task and multi-scale.

``build(model_cfg, targets=...)`` returns a :class:`MultiTaskLoss`;
``total, parts = loss(outputs, targets, mask)``. Every loss honours the mask and, for
probability targets, the ignore value -1, normalising by the number of valid voxels.

The names are imported on first use (PEP 562), so the config checks can use
:mod:`volseg.losses.monai_args` without importing torch.
"""

from __future__ import annotations

from volseg._lazy import lazy_exports

_HOME = {
    "GradNormBalancing": "volseg.losses.balancing",
    "NoBalancing": "volseg.losses.balancing",
    "UncertaintyBalancing": "volseg.losses.balancing",
    "LOSSES": "volseg.losses.builder",
    "build": "volseg.losses.builder",
    "MultiTaskLoss": "volseg.losses.multitask",
    "BCEWithLogitsLoss": "volseg.losses.pixel",
    "FocalLoss": "volseg.losses.pixel",
    "WeightedBCEWithLogitsLoss": "volseg.losses.pixel",
    "DiceLoss": "volseg.losses.region",
    "TverskyLoss": "volseg.losses.region",
    "MSELoss": "volseg.losses.regression",
    "SmoothL1Loss": "volseg.losses.regression",
}

__all__ = sorted(_HOME)


__getattr__, __dir__ = lazy_exports(__name__, _HOME)
