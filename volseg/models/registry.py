"""Network registry: ``build(model_cfg)`` by ``model.architecture``.

``USED_KEYS`` says which model keys each architecture reads (besides ``COMMON_KEYS``); the
config module uses it to refuse keys the chosen architecture would ignore, and the tests check
that every one of them changes the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from volseg.errors import VolsegError
from volseg.models import _config as C
from volseg.models.blocks import ACTIVATIONS, NORMS
from volseg.models.network import VolsegNet
from volseg.models.rsunet import UPSAMPLE_MODES, RSUNet

COMMON_KEYS = frozenset(
    {"architecture", "in_channels", "out_channels", "deep_supervision", "deep_supervision_weights"}
)
USED_KEYS: dict[str, frozenset[str]] = {
    "rsunet": frozenset(
        {"filters", "strides", "kernel_size", "num_2d_levels", "norm", "activation", "dropout"}
        | {"upsample", "spatial_dims"}
    ),
    "mednext": frozenset({"mednext_size", "mednext_kernel_size", "spatial_dims"}),
    "monai_basic_unet3d": frozenset(
        {"filters", "norm", "activation", "dropout", "upsample", "spatial_dims"}
    ),
    "attention_unet": frozenset({"filters", "strides", "kernel_size", "dropout", "spatial_dims"}),
    "monai_unet": frozenset(
        {"filters", "strides", "kernel_size", "num_res_units", "norm", "activation", "dropout"}
        | {"spatial_dims"}
    ),
}
ARCHITECTURES = tuple(USED_KEYS)
DEFAULT_FILTERS: dict[str, list[int]] = {
    "rsunet": [28, 36, 48, 64, 80],
    "monai_basic_unet3d": [32, 32, 64, 128, 256, 32],
    "attention_unet": [16, 32, 64, 128, 256],
    "monai_unet": [16, 32, 64, 128, 256],
}
BASIC_UPSAMPLE = ("deconv", "pixelshuffle", "nontrainable")
# MedNeXt's stem width is the paper's 32; its depth (5 levels) is fixed.
MEDNEXT_INIT_FILTERS = 32


def architecture(cfg: Any) -> str:
    """The validated architecture name."""
    name = C.get(cfg, "architecture")
    if name not in USED_KEYS:
        raise VolsegError(
            f"unknown model.architecture {name!r}; valid architectures: {', '.join(ARCHITECTURES)}."
        )
    return name


def _widths(cfg: Any, arch: str, width: int | None = None) -> list[int]:
    filters = C.int_list(C.get(cfg, "filters", DEFAULT_FILTERS[arch]), "filters", min_len=2)
    return filters if width is None else [width] * len(filters)


def num_outputs(cfg: Any) -> int:
    """Outputs the model returns in training mode: one per level with deep supervision, else 1."""
    arch = architecture(cfg)
    if not C.get(cfg, "deep_supervision"):
        return 1
    if arch in ("mednext", "monai_basic_unet3d"):
        return 5
    return len(_widths(cfg, arch))


def _rsunet(
    cfg: Any, dims: int, ds: bool, io: dict[str, int], width: int | None
) -> tuple[Any, list, tuple]:
    filters = _widths(cfg, "rsunet", width)
    kernel = _odd_kernel(cfg, "kernel_size", dims)
    n2d = C.get(cfg, "num_2d_levels")
    if isinstance(n2d, bool) or not isinstance(n2d, int) or not 0 <= n2d <= len(filters):
        raise VolsegError(
            f"model.num_2d_levels must be an integer from 0 to {len(filters)} (the number of "
            f"levels), got {n2d!r}."
        )
    if dims == 2 and n2d:
        raise VolsegError("model.num_2d_levels must be 0 for a 2D network (spatial_dims=2).")
    # Without explicit strides the 2D levels pool in-plane (1, 2, 2), the others (2, 2, 2).
    default = [[1, 2, 2] if i < n2d else 2 for i in range(len(filters) - 1)]
    factors = C.down_factors(cfg, len(filters) - 1, dims, default)
    up = C.choice(C.get(cfg, "upsample", "nontrainable"), "upsample", UPSAMPLE_MODES)
    net = RSUNet(
        **io, filters=filters, down_factors=factors, kernel_size=kernel, num_2d_levels=n2d,
        norm=_norm(cfg), activation=_act(cfg), dropout=C.dropout_rate(C.get(cfg, "dropout")),
        upsample=up, dims=dims, deep_supervision=ds,
    )  # fmt: skip
    divisor = tuple(_prod_axis(factors, a) for a in range(dims))
    return net, [], divisor


def _mednext(
    cfg: Any, dims: int, ds: bool, io: dict[str, int], width: int | None
) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import MEDNEXT_SIZES, build_mednext

    size = str(C.get(cfg, "mednext_size")).upper()
    if size not in MEDNEXT_SIZES:
        raise VolsegError(f"model.mednext_size {size!r} is not valid; choose one of: S, B, M, L.")
    kernel = C.positive_int(C.get(cfg, "mednext_kernel_size"), "mednext_kernel_size")
    if kernel % 2 == 0:
        raise VolsegError(f"model.mednext_kernel_size must be odd, got {kernel}.")
    return build_mednext(
        **io, dims=dims, size=size, init_filters=width or MEDNEXT_INIT_FILTERS, kernel_size=kernel,
        deep_supervision=ds,
    )  # fmt: skip


def _basic(
    cfg: Any, dims: int, ds: bool, io: dict[str, int], width: int | None
) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_basic_unet

    up = C.choice(C.get(cfg, "upsample", "nontrainable"), "upsample", BASIC_UPSAMPLE)
    return build_basic_unet(
        **io, dims=dims, filters=_widths(cfg, "monai_basic_unet3d", width), norm=_norm(cfg),
        activation=_act(cfg), dropout=C.dropout_rate(C.get(cfg, "dropout")), upsample=up,
    )  # fmt: skip


def _attention(
    cfg: Any, dims: int, ds: bool, io: dict[str, int], width: int | None
) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_attention_unet

    filters = _widths(cfg, "attention_unet", width)
    factors = C.down_factors(cfg, len(filters) - 1, dims, 2)
    return build_attention_unet(
        **io, dims=dims, filters=filters, down_factors=factors,
        kernel_size=_odd_kernel(cfg, "kernel_size", dims),
        dropout=C.dropout_rate(C.get(cfg, "dropout")),
    )  # fmt: skip


def _monai_unet(
    cfg: Any, dims: int, ds: bool, io: dict[str, int], width: int | None
) -> tuple[Any, list, tuple]:
    from volseg.models.monai_nets import build_monai_unet

    channels = _widths(cfg, "monai_unet", width)  # MONAI calls them channels
    units = C.get(cfg, "num_res_units")
    if isinstance(units, bool) or not isinstance(units, int) or units < 0:
        raise VolsegError(f"model.num_res_units must be an integer >= 0, got {units!r}.")
    return build_monai_unet(
        **io, dims=dims, channels=channels,
        down_factors=C.down_factors(cfg, len(channels) - 1, dims, 2),
        kernel_size=_odd_kernel(cfg, "kernel_size", dims), num_res_units=units,
        norm=_norm(cfg), activation=_act(cfg), dropout=C.dropout_rate(C.get(cfg, "dropout")),
    )  # fmt: skip


BUILDERS: dict[str, Callable[..., tuple[Any, list, tuple]]] = {
    "rsunet": _rsunet,
    "mednext": _mednext,
    "monai_basic_unet3d": _basic,
    "attention_unet": _attention,
    "monai_unet": _monai_unet,
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
    arch = architecture(model_cfg)
    dims = C.get(model_cfg, "spatial_dims")
    if dims not in (2, 3):
        raise VolsegError(f"model.spatial_dims must be 2 or 3, got {dims!r}.")
    io = {
        "in_channels": C.positive_int(C.get(model_cfg, "in_channels"), "in_channels"),
        "out_channels": C.positive_int(C.get(model_cfg, "out_channels"), "out_channels"),
    }
    ds = C.get(model_cfg, "deep_supervision")
    if not isinstance(ds, bool):
        raise VolsegError(f"model.deep_supervision must be true or false, got {ds!r}.")
    net, taps, divisor = BUILDERS[arch](model_cfg, dims, ds, io, width)
    return VolsegNet(
        net, architecture=arch, spatial_dims=dims, divisor=divisor, deep_supervision=ds,
        taps=taps, **io,
    )  # fmt: skip


def _norm(cfg: Any) -> str:
    return C.choice(C.get(cfg, "norm"), "norm", NORMS)


def _act(cfg: Any) -> str:
    return C.choice(C.get(cfg, "activation"), "activation", ACTIVATIONS)


def _odd_kernel(cfg: Any, key: str, dims: int) -> tuple[int, ...]:
    kernel = C.per_axis(C.get(cfg, key), key, dims)
    if any(k % 2 == 0 for k in kernel):
        raise VolsegError(f"model.{key} must be odd on every axis, got {list(kernel)}.")
    return kernel


def _prod_axis(factors: list[tuple[int, ...]], axis: int) -> int:
    out = 1
    for f in factors:
        out *= f[axis]
    return out
