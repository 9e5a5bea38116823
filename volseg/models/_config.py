"""Reading the ``model`` config section: attribute or item access, defaults, validation.

``build`` accepts an OmegaConf ``DictConfig``, a plain ``dict`` or a ``SimpleNamespace``; absent
keys and keys set to ``None`` take the defaults below, so tests do not need the config module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from volseg.errors import VolsegError

# The defaults of the network keys, for the builders and the config schema alike (the schema's
# dataclass reads them; a test checks the two agree). ``filters: None`` takes the
# architecture's widths (``volseg.models.options.DEFAULT_FILTERS``).
DEFAULTS: dict[str, Any] = {
    "architecture": "rsunet",
    "in_channels": 1,
    "out_channels": 3,
    "spatial_dims": 3,
    "deep_supervision": False,
    "deep_supervision_weights": None,
    "norm": "batch",
    "activation": "relu",
    "dropout": 0.0,
    "kernel_size": 3,
    "num_2d_levels": 0,
    "mednext_size": "S",
    "mednext_kernel_size": 3,
    "num_res_units": 2,
    "upsample": "nontrainable",
}


def plain(value: Any) -> Any:
    """OmegaConf containers (and nested ones) to plain Python lists and dicts."""
    if type(value).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(value, resolve=True)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def get(cfg: Any, key: str, default: Any = None) -> Any:
    """``cfg[key]`` or ``cfg.key`` as plain Python; ``default`` (or DEFAULTS) when absent/None."""
    if default is None:
        default = DEFAULTS.get(key)
    if cfg is None:
        return default
    if isinstance(cfg, Mapping):
        value = cfg.get(key, None)
    else:
        value = getattr(cfg, key, None)
    return default if value is None else plain(value)


def to_dict(cfg: Any) -> dict[str, Any]:
    """The whole model section as a plain dict (for checkpoints)."""
    if cfg is None:
        return {}
    if isinstance(cfg, Mapping) or type(cfg).__module__.startswith("omegaconf"):
        return dict(plain(cfg))
    return {k: plain(v) for k, v in vars(cfg).items() if not k.startswith("_")}


def positive_int(value: Any, key: str) -> int:
    """An integer >= 1, or VolsegError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise VolsegError(f"model.{key} must be a positive integer, got {value!r}.")
    return value


def int_list(value: Any, key: str, *, min_len: int = 1) -> list[int]:
    """A list of positive integers of at least ``min_len`` entries."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) < min_len:
        raise VolsegError(
            f"model.{key} must be a list of at least {min_len} positive integers, got {value!r}."
        )
    return [positive_int(v, key) for v in value]


def per_axis(value: Any, key: str, dims: int) -> tuple[int, ...]:
    """An int or a per-axis list, returned as a ``dims``-tuple of positive ints.

    For 2D networks a 3-entry value ``[1, y, x]`` is accepted and its z entry dropped.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return (positive_int(value, key),) * dims
    if isinstance(value, Sequence) and not isinstance(value, str):
        vals = [positive_int(v, key) for v in value]
        if dims == 2 and len(vals) == 3:
            if vals[0] != 1:
                raise VolsegError(
                    f"model.{key} {vals} has a z entry of {vals[0]} but the network is 2D "
                    "(spatial_dims=2); use 1 for z or give two values."
                )
            vals = vals[1:]
        if len(vals) == dims:
            return tuple(vals)
    raise VolsegError(
        f"model.{key} must be an integer or a list of {dims} integers (z, y, x), got {value!r}."
    )


def down_factors(cfg: Any, levels: int, dims: int, default: Any) -> list[tuple[int, ...]]:
    """Per-level down factors from ``strides`` (one name: the config's).

    Args:
        cfg: model config.
        levels: number of down-sampling steps the network has (resolution levels - 1).
        dims: spatial dimensions of the network.
        default: value used when neither key is set: one factor for every level, or a list
            with one factor per level.
    """
    value, key = get(cfg, "strides"), "strides"
    if value is None:
        if isinstance(default, list):
            return [per_axis(v, key, dims) for v in default]
        return [per_axis(default, key, dims)] * levels
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != levels:
        raise VolsegError(
            f"model.{key} must list one down factor per level ({levels} entries for "
            f"{levels + 1} resolution levels), got {value!r}."
        )
    return [per_axis(v, key, dims) for v in value]


def choice(value: Any, key: str, valid: Sequence[str]) -> str:
    """``value`` lower-cased if it is one of ``valid``, else VolsegError listing them."""
    text = str(value).lower()
    if text not in valid:
        raise VolsegError(f"model.{key} {value!r} is not valid; choose one of: {', '.join(valid)}.")
    return text


def dropout_rate(value: Any) -> float:
    """A dropout probability in [0, 1)."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = -1.0
    if not 0.0 <= rate < 1.0:
        raise VolsegError(f"model.dropout must be a number in [0, 1), got {value!r}.")
    return rate
