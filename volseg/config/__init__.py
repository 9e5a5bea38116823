"""Strict, typed configuration in the shape of PyTorch Connectomics v2 tutorial configs.

``load(path, overrides)`` reads YAML (``_base_`` inheritance, ``key=value`` overrides), checks
every key and value against the schemas in ``schema*.py`` and returns a read-only OmegaConf
structured ``DictConfig``. Any problem is a :class:`~volseg.errors.VolsegError` with one
sentence, e.g. ``config.yaml: unknown key `optimization.optimizer.lrr`; did you mean
`optimization.optimizer.lr`?``.
"""

from volseg.config.loader import count_keys, load, loads, to_yaml
from volseg.config.schema import SECTIONS, Config
from volseg.config.schema_data import (
    AUGMENTATION_PRESETS,
    AUGMENTATIONS,
    TARGET_KWARGS,
    enabled_augmentations,
    target_channels,
)
from volseg.config.schema_decode import DECODER_KWARGS, METRICS
from volseg.config.schema_model import (
    ARCHITECTURE_KEYS,
    ARCHITECTURES,
    COMMON_MODEL_KEYS,
    LOSS_KWARGS,
    LOSSES,
    down_factors,
)
from volseg.config.schema_run import OPTIMIZER_KEYS, SCHEDULER_KEYS

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_KEYS",
    "AUGMENTATIONS",
    "AUGMENTATION_PRESETS",
    "COMMON_MODEL_KEYS",
    "Config",
    "DECODER_KWARGS",
    "LOSSES",
    "LOSS_KWARGS",
    "METRICS",
    "OPTIMIZER_KEYS",
    "SCHEDULER_KEYS",
    "SECTIONS",
    "TARGET_KWARGS",
    "count_keys",
    "down_factors",
    "enabled_augmentations",
    "load",
    "loads",
    "target_channels",
    "to_yaml",
]
