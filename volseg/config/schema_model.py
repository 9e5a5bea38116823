"""The ``model`` section: network architecture, losses and multi-task wiring.

Each architecture uses only some keys. :data:`ARCHITECTURE_KEYS` says which (besides
:data:`COMMON_MODEL_KEYS`); a key the chosen architecture would ignore, set to anything but its
default, is an error. ``filters`` is the per-level width list for every architecture that
has one (MONAI calls it ``channels`` or ``features``); null means :data:`DEFAULT_FILTERS`
of the architecture and is filled in on loading. Deep supervision works with every
architecture (one output per resolution level).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from volseg.config.fields import NON_NEGATIVE, POSITIVE, Param, param, spec
from volseg.models._config import DEFAULTS as D
from volseg.models.options import (
    ACTIVATIONS,
    ARCHITECTURES,
    DEFAULT_FILTERS,
    FIXED_DEPTH,
    MEDNEXT_KERNELS,
    MEDNEXT_SIZES,
    NORMS,
    UPSAMPLE,
    USED_KEYS,
    down_factors,
)

__all__ = ["ARCHITECTURES", "DEFAULT_FILTERS", "FIXED_DEPTH", "down_factors"]

LOSSES = (
    "DiceLoss",
    "WeightedBCEWithLogitsLoss",
    "BCEWithLogitsLoss",
    "FocalLoss",
    "TverskyLoss",
    "SmoothL1Loss",
    "MSELoss",
)

COMMON_MODEL_KEYS = frozenset(
    {
        "architecture",
        "input_size",
        "output_size",
        "in_channels",
        "out_channels",
        "loss_functions",
        "loss_weights",
        "loss_kwargs",
        "loss_balancing",
        "multi_task_config",
        "external_weights_path",
        "external_weights_prefix",
        "deep_supervision",
        "deep_supervision_weights",
    }
)

#: Architecture-specific ``model`` keys each architecture uses (on top of COMMON_MODEL_KEYS):
#: the network's own table (``volseg.models.options``), not a copy.
ARCHITECTURE_KEYS = USED_KEYS

#: Keyword arguments each loss accepts in ``model.loss_kwargs``.
#: MONAI's loss arguments volseg accepts with MONAI's meaning (``volseg.losses.monai_args``).
MONAI_REGION_KWARGS: dict[str, Param] = {
    "smooth_nr": param(float, **NON_NEGATIVE),
    "smooth_dr": param(float, **POSITIVE),
    "batch": param(bool),
    "include_background": param(bool),
    "sigmoid": param(bool),
    "softmax": param(bool),
    "to_onehot_y": param(bool),
    "reduction": param(str, choices=("mean", "sum", "none")),
}

LOSS_KWARGS: dict[str, dict[str, Param]] = {
    "DiceLoss": {
        "smooth": param(float, **POSITIVE),
        "squared_pred": param(bool),
        **MONAI_REGION_KWARGS,
    },
    "WeightedBCEWithLogitsLoss": {
        "pos_weight": param(float, **POSITIVE),
        "class_balance": param(bool),
    },
    "BCEWithLogitsLoss": {"pos_weight": param(float, **POSITIVE)},
    "FocalLoss": {
        "alpha": param(float | None, lo=0.0, hi=1.0),
        "gamma": param(float, **NON_NEGATIVE),
        "pos_weight": param(float, **POSITIVE),
        "include_background": param(bool),
        "use_softmax": param(bool),
        "to_onehot_y": param(bool),
        "reduction": param(str, choices=("mean", "sum", "none")),
    },
    "TverskyLoss": {
        "alpha": param(float, **NON_NEGATIVE),
        "beta": param(float, **NON_NEGATIVE),
        "smooth": param(float, **POSITIVE),
        **MONAI_REGION_KWARGS,
    },
    "SmoothL1Loss": {"beta": param(float, **POSITIVE), "tanh": param(bool)},
    "MSELoss": {"tanh": param(bool)},
}


@dataclass
class ModelConfig:
    """Network and loss settings (PyTorch Connectomics v2 key names).

    ``multi_task_config`` rows are ``[start_ch, end_ch, target_name, [loss indices]]``: output
    channels ``start_ch:end_ch`` are trained against the label target ``target_name`` (a name
    from ``data.label_transform.targets``) with the listed losses. Empty = every loss on every
    channel. ``loss_kwargs`` is empty or one mapping per loss. ``strides`` entries are ints or
    ``[z, y, x]`` triples (null = 2 per level). ``num_2d_levels`` (rsunet): the first levels use
    in-plane ``1x3x3`` convolutions and ``1x2x2`` pooling, for anisotropic data.
    """

    architecture: str = spec(D["architecture"], choices=ARCHITECTURES)
    input_size: list[int] = spec(factory=lambda: [32, 128, 128], length=3, lo=1)
    output_size: list[int] | None = spec(None, length=3, lo=1)
    in_channels: int = spec(D["in_channels"], lo=1)
    out_channels: int = spec(D["out_channels"], lo=1)
    filters: list[int] | None = spec(None, min_length=2, lo=1)
    deep_supervision: bool = D["deep_supervision"]
    deep_supervision_weights: list[float] | None = spec(None, min_length=1, lo=0.0, lo_open=True)
    norm: str = spec(D["norm"], choices=NORMS)
    activation: str = spec(D["activation"], choices=ACTIVATIONS)
    dropout: float = spec(D["dropout"], lo=0.0, hi=1.0, hi_open=True)
    kernel_size: Any = D["kernel_size"]
    strides: list[Any] | None = None
    num_2d_levels: int = spec(D["num_2d_levels"], lo=0)
    mednext_size: str = spec(D["mednext_size"], choices=MEDNEXT_SIZES)
    mednext_kernel_size: int = spec(D["mednext_kernel_size"], choices=MEDNEXT_KERNELS)
    spatial_dims: int = spec(D["spatial_dims"], choices=(2, 3))
    num_res_units: int = spec(D["num_res_units"], lo=0)
    upsample: str = spec(D["upsample"], choices=tuple(sorted(set().union(*UPSAMPLE.values()))))
    loss_functions: list[str] = spec(
        factory=lambda: [
            "DiceLoss",
            "WeightedBCEWithLogitsLoss",
            "DiceLoss",
            "WeightedBCEWithLogitsLoss",
            "SmoothL1Loss",
        ],
        choices=LOSSES,
        min_length=1,
    )
    loss_weights: list[float] = spec(factory=lambda: [1.0, 1.0, 1.0, 1.0, 1.0], lo=0.0)
    loss_kwargs: list[dict[str, Any]] = spec(factory=lambda: [{}, {}, {}, {}, {"tanh": True}])
    loss_balancing: str = spec("none", choices=("none", "uncertainty", "gradnorm"))
    multi_task_config: list[list[Any]] = spec(
        factory=lambda: [
            [0, 1, "binary", [0, 1]],
            [1, 2, "instance_boundary", [2, 3]],
            [2, 3, "instance_edt", [4]],
        ]
    )
    external_weights_path: str | None = spec(None, path="one")
    external_weights_prefix: str = ""
