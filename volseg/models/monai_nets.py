"""MONAI networks (MedNeXt, BasicUNet, AttentionUnet, UNet; the attention ResU-Net of
:mod:`volseg.models.attention_resunet`, built from MONAI blocks) configured from the model section.

Each builder returns the core network plus the deep-supervision taps (decoder modules whose
outputs get 1x1 heads, finest first) and the per-axis divisor the input shape must satisfy.
MedNeXt does deep supervision itself (MONAI's ``deep_supervision=True``), so it has no taps.
"""

from __future__ import annotations

import math
from typing import Any

from monai.networks.nets import AttentionUnet, BasicUNet, MedNeXt, UNet
from torch import nn

from volseg.errors import VolsegError
from volseg.models.blocks import MAX_GROUPS

Built = tuple[nn.Module, list[tuple[nn.Module, int]], tuple[int, ...]]

# MedNeXt sizes from Roy et al. 2023 (arXiv:2303.09975), Table 1: expansion ratios and blocks
# per stage; the stem width (init_filters) comes from ``filters``.
MEDNEXT_SIZES: dict[str, dict[str, Any]] = {
    "S": {"enc": 2, "dec": 2, "bott": 2, "down": (2, 2, 2, 2), "nb": 2, "up": (2, 2, 2, 2)},
    "B": {
        "enc": (2, 3, 4, 4), "dec": (4, 4, 3, 2), "bott": 4,
        "down": (2, 2, 2, 2), "nb": 2, "up": (2, 2, 2, 2),
    },
    "M": {
        "enc": (2, 3, 4, 4), "dec": (4, 4, 3, 2), "bott": 4,
        "down": (3, 4, 4, 4), "nb": 4, "up": (4, 4, 4, 3),
    },
    "L": {
        "enc": (3, 4, 8, 8), "dec": (8, 8, 4, 3), "bott": 8,
        "down": (3, 4, 8, 8), "nb": 8, "up": (8, 8, 4, 3),
    },
}  # fmt: skip
MEDNEXT_LEVELS = 5


def monai_norm(kind: str, channels: list[int]) -> str | tuple[str, dict[str, Any]]:
    """MONAI norm spec; group norm uses the largest group count <= 8 dividing every width
    (MONAI takes one group count for all layers; pass every normalised width)."""
    if kind == "batch":
        return "batch"
    if kind == "instance":
        return ("instance", {"affine": True})
    groups = math.gcd(MAX_GROUPS, *channels)
    return ("group", {"num_groups": groups})


def monai_act(kind: str) -> str | tuple[str, dict[str, Any]]:
    """MONAI activation spec for one of volseg's activation names (validated by the registry)."""
    if kind == "leakyrelu":
        return ("leakyrelu", {"negative_slope": 0.01})
    return kind


def build_basic_unet(
    *, in_channels: int, out_channels: int, dims: int, filters: list[int], norm: str,
    activation: str, dropout: float, upsample: str,
) -> Built:  # fmt: skip
    """MONAI BasicUNet: five levels (2x max-pool each), ``filters`` = 6 widths."""
    if len(filters) != 6:
        raise VolsegError(
            "model.filters for monai_basic_unet3d must have 6 entries (five encoder widths and "
            f"the last decoder width), got {filters}."
        )
    net = BasicUNet(
        spatial_dims=dims, in_channels=in_channels, out_channels=out_channels,
        features=tuple(filters), act=monai_act(activation), norm=monai_norm(norm, filters),
        dropout=dropout, upsample=upsample,
    )  # fmt: skip
    taps = [(net.upcat_2, filters[1]), (net.upcat_3, filters[2]), (net.upcat_4, filters[3])]
    taps.append((net.down_4, filters[4]))
    return net, taps, (16,) * dims


def build_attention_unet(
    *, in_channels: int, out_channels: int, dims: int, filters: list[int],
    down_factors: list[tuple[int, ...]], kernel_size: tuple[int, ...], dropout: float,
) -> Built:  # fmt: skip
    """MONAI AttentionUnet (batch norm and ReLU are fixed inside MONAI)."""
    net = AttentionUnet(
        spatial_dims=dims, in_channels=in_channels, out_channels=out_channels,
        channels=tuple(filters), strides=[tuple(f) for f in down_factors],
        kernel_size=tuple(kernel_size), dropout=dropout,
    )  # fmt: skip
    taps: list[tuple[nn.Module, int]] = []
    layer = net.model[1]  # AttentionLayer of level 0; its submodule holds the coarser levels
    for level in range(1, len(filters) - 1):
        layer = layer.submodule[1]
        taps.append((layer, filters[level]))
    taps.append((layer.submodule, filters[-1]))  # bottom ConvBlock
    return net, taps, tuple(math.prod(f[a] for f in down_factors) for a in range(dims))


def build_monai_unet(
    *, in_channels: int, out_channels: int, dims: int, channels: list[int],
    down_factors: list[tuple[int, ...]], kernel_size: tuple[int, ...], num_res_units: int,
    norm: str, activation: str, dropout: float,
) -> Built:  # fmt: skip
    """MONAI UNet (strided-convolution encoder, transposed-convolution decoder)."""
    net = UNet(
        spatial_dims=dims, in_channels=in_channels, out_channels=out_channels,
        channels=tuple(channels), strides=[tuple(f) for f in down_factors],
        kernel_size=tuple(kernel_size), num_res_units=num_res_units, act=monai_act(activation),
        norm=monai_norm(norm, [*channels, out_channels]), dropout=dropout,
    )  # fmt: skip
    taps: list[tuple[nn.Module, int]] = []
    block = net.model  # Sequential(down, SkipConnection(sub), up) per level
    for level in range(1, len(channels) - 1):
        block = block[1].submodule
        taps.append((block[2], channels[level - 1]))  # up path of this level
    taps.append((block[1].submodule, channels[-1]))  # bottom layer
    return net, taps, tuple(math.prod(f[a] for f in down_factors) for a in range(dims))


def build_attention_resunet(
    *, in_channels: int, out_channels: int, dims: int, filters: list[int],
    down_factors: list[tuple[int, ...]], kernel_size: tuple[int, ...], num_res_units: int,
    norm: str, activation: str, dropout: float,
) -> Built:  # fmt: skip
    """Attention residual U-Net (residual-unit stages, attention-gated skips)."""
    from volseg.models.attention_resunet import AttentionResUNet, gate_widths

    net = AttentionResUNet(
        dims=dims, in_channels=in_channels, out_channels=out_channels, filters=filters,
        down_factors=down_factors, kernel_size=kernel_size, num_res_units=num_res_units,
        norm=monai_norm(norm, [*filters, *gate_widths(filters)]), act=monai_act(activation),
        dropout=dropout,
    )  # fmt: skip
    # decoder stages of levels 1.. (finest first), then the bottom residual unit
    taps = [(net.decoder[i], filters[i]) for i in range(1, len(filters) - 1)]
    taps.append((net.encoder[-1], filters[-1]))
    return net, taps, tuple(math.prod(f[a] for f in down_factors) for a in range(dims))


def build_mednext(
    *, in_channels: int, out_channels: int, dims: int, size: str, init_filters: int,
    kernel_size: int, deep_supervision: bool,
) -> Built:  # fmt: skip
    """MONAI MedNeXt of size S/B/M/L with residual blocks and group norm (as in the paper)."""
    p = MEDNEXT_SIZES[size]
    net = MedNeXt(
        spatial_dims=dims, init_filters=init_filters, in_channels=in_channels,
        out_channels=out_channels, encoder_expansion_ratio=p["enc"],
        decoder_expansion_ratio=p["dec"], bottleneck_expansion_ratio=p["bott"],
        kernel_size=kernel_size, deep_supervision=deep_supervision, use_residual_connection=True,
        blocks_down=p["down"], blocks_bottleneck=p["nb"], blocks_up=p["up"], norm_type="group",
    )  # fmt: skip
    return net, [], (2 ** (MEDNEXT_LEVELS - 1),) * dims
