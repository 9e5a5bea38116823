"""Losses: Dice, (weighted) BCE, focal, Tversky, smooth L1, MSE; multi-task and multi-scale.

``build(model_cfg, targets=...)`` returns a :class:`MultiTaskLoss`;
``total, parts = loss(outputs, targets, mask)``. Every loss honours the mask and, for
probability targets, the ignore value -1, normalising by the number of valid voxels.
"""

from volseg.losses.balancing import GradNormBalancing, NoBalancing, UncertaintyBalancing
from volseg.losses.builder import LOSSES, build
from volseg.losses.multitask import MultiTaskLoss
from volseg.losses.pixel import BCEWithLogitsLoss, FocalLoss, WeightedBCEWithLogitsLoss
from volseg.losses.region import DiceLoss, TverskyLoss
from volseg.losses.regression import MSELoss, SmoothL1Loss

__all__ = [
    "LOSSES",
    "BCEWithLogitsLoss",
    "DiceLoss",
    "FocalLoss",
    "GradNormBalancing",
    "MSELoss",
    "MultiTaskLoss",
    "NoBalancing",
    "SmoothL1Loss",
    "TverskyLoss",
    "UncertaintyBalancing",
    "WeightedBCEWithLogitsLoss",
    "build",
]
