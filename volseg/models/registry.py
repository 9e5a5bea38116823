"""Network registry: ``build(model_cfg)`` by ``model.architecture``.

The keys, defaults and rules live in :mod:`volseg.models.options` (shared with the config
schema); each builder here takes the arguments :func:`~volseg.models.options.resolve` returns.
The tests check that every key of ``USED_KEYS`` changes the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from volseg.models.network import VolsegNet
from volseg.models.options import (
    ARCHITECTURES,
    COMMON_KEYS,
    USED_KEYS,
    resolve,
)
from volseg.models.rsunet import RSUNet

__all__ = ["ARCHITECTURES", "COMMON_KEYS", "USED_KEYS", "build", "num_outputs"]
# MedNeXt's stem width is the paper's 32; its depth (5 levels) is fixed.
MEDNEXT_INIT_FILTERS = 32


def num_outputs(cfg: Any) -> int:
    """Outputs the model returns in training mode: one per level with deep supervision, else 1."""
    r = resolve(cfg)
    return len(r["factors"]) + 1 if r["deep_supervision"] else 1  # one per resolution level


def _widths(r: dict[str, Any], width: int | None) -> list[int]:
    return r["filters"] if width is None else [width] * len(r["filters"])


def _io(r: dict[str, Any]) -> dict[str, int]:
    return {"in_channels": r["in_channels"], "out_channels": r["out_channels"]}


def _rsunet(r: dict[str, Any], width: int | None) -> tuple[Any, list, tuple]:
    factors = r["factors"]
    net = RSUNet(
        **_io(r), filters=_widths(r, width), down_factors=factors, kernel_size=r["kernel_size"],
        num_2d_levels=r["num_2d_levels"], norm=r["norm"], activation=r["activation"],
        dropout=r["dropout"], upsample=r["upsample"], dims=r["dims"],
        deep_supervision=r["deep_supervision"],
    )  # fmt: skip
    divisor = tuple(_prod_axis(factors, a) for a in range(r["dims"]))
    return net, [], divisor


def _mednext(r: dict[str, Any], width: int | None) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_mednext

    return build_mednext(
        **_io(r), dims=r["dims"], size=r["mednext_size"], kernel_size=r["mednext_kernel_size"],
        init_filters=width or MEDNEXT_INIT_FILTERS, deep_supervision=r["deep_supervision"],
    )  # fmt: skip


def _basic(r: dict[str, Any], width: int | None) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_basic_unet

    return build_basic_unet(
        **_io(r), dims=r["dims"], filters=_widths(r, width), norm=r["norm"],
        activation=r["activation"], dropout=r["dropout"], upsample=r["upsample"],
    )  # fmt: skip


def _attention(r: dict[str, Any], width: int | None) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_attention_unet

    return build_attention_unet(
        **_io(r), dims=r["dims"], filters=_widths(r, width), down_factors=r["factors"],
        kernel_size=r["kernel_size"], dropout=r["dropout"],
    )  # fmt: skip


def _monai_unet(r: dict[str, Any], width: int | None) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_monai_unet

    return build_monai_unet(
        **_io(r), dims=r["dims"], channels=_widths(r, width), down_factors=r["factors"],
        kernel_size=r["kernel_size"], num_res_units=r["num_res_units"], norm=r["norm"],
        activation=r["activation"], dropout=r["dropout"],
    )  # fmt: skip


def _attention_res(r: dict[str, Any], width: int | None) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_attention_resunet

    return build_attention_resunet(
        **_io(r), dims=r["dims"], filters=_widths(r, width), down_factors=r["factors"],
        kernel_size=r["kernel_size"], num_res_units=r["num_res_units"], norm=r["norm"],
        activation=r["activation"], dropout=r["dropout"],
    )  # fmt: skip


BUILDERS: dict[str, Callable[[dict[str, Any], int | None], tuple[Any, list, tuple]]] = {
    "rsunet": _rsunet,
    "mednext": _mednext,
    "monai_basic_unet3d": _basic,
    "attention_unet": _attention,
    "monai_unet": _monai_unet,
    "attention_resunet": _attention_res,
}


def build(model_cfg: Any, *, width: int | None = None) -> VolsegNet:
    """Build the network named by ``model_cfg.architecture``.

    Args:
        model_cfg: the ``model`` config section (DictConfig, dict or namespace); absent keys
            take defaults.
        width: make every level this many channels wide (a cheap twin with the same layout,
            e.g. for receptive-field probes); ``None`` = the configured widths.

    Returns:
        A :class:`VolsegNet` taking ``(b, c, z, y, x)`` and returning logits (a list of logits
        per decoder level, finest first, in training mode with deep supervision).
    """
    r = resolve(model_cfg)
    net, taps, divisor = BUILDERS[r["architecture"]](r, width)
    return VolsegNet(
        net, architecture=r["architecture"], spatial_dims=r["dims"], divisor=divisor,
        deep_supervision=r["deep_supervision"], taps=taps, **_io(r),
    )  # fmt: skip


def _prod_axis(factors: list[tuple[int, ...]], axis: int) -> int:
    out = 1
    for f in factors:
        out *= f[axis]
    return out
