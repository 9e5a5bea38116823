"""Decoder parameter sweeps (``volseg decode --sweep thresholds``)."""

from volseg.tune.report import heatmap, read_thresholds, write_csv, write_thresholds
from volseg.tune.space import expand, normalise_space, parameter_names
from volseg.tune.sweep import SweepResult, sweep

__all__ = [
    "SweepResult",
    "expand",
    "heatmap",
    "normalise_space",
    "parameter_names",
    "read_thresholds",
    "sweep",
    "write_csv",
    "write_thresholds",
]
