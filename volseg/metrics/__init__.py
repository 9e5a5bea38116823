"""Segmentation metrics: adapted Rand, VOI, instance matching and voxel-wise scores.

All instance metrics read one sparse :class:`Contingency` table; compute it once with
:func:`contingency` and pass ``table=`` to each metric to avoid re-reading the volumes.
Conventions (which id is ignored, how seg background is treated, which AP) are documented in
each module and in ``volseg/metrics/README.md``.
"""

from volseg.metrics.average_precision import average_precision
from volseg.metrics.contingency import Contingency, contingency
from volseg.metrics.matching import instance_ious, match_instances
from volseg.metrics.rand import adapted_rand
from volseg.metrics.semantic import roc_auc, semantic
from volseg.metrics.voi import voi

__all__ = [
    "Contingency",
    "adapted_rand",
    "average_precision",
    "contingency",
    "instance_ious",
    "match_instances",
    "roc_auc",
    "semantic",
    "voi",
]
