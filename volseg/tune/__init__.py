"""Decoder parameter sweeps (``volseg decode --sweep thresholds``) and decoder settings."""

from volseg.tune.report import heatmap, write_csv
from volseg.tune.settings import (
    DecoderSettings,
    read_thresholds,
    resolve,
    thresholds_dir,
    write_thresholds,
)
from volseg.tune.space import expand, normalise_space, parameter_names
from volseg.tune.sweep import SweepResult, sweep

__all__ = [
    "DecoderSettings",
    "SweepResult",
    "expand",
    "heatmap",
    "normalise_space",
    "parameter_names",
    "read_thresholds",
    "resolve",
    "sweep",
    "thresholds_dir",
    "write_csv",
    "write_thresholds",
]
