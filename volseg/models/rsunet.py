"""Residual symmetric U-Net (Lee et al. 2017, "Superhuman accuracy on the SNEMI3D challenge").

Each resolution level is a (pre-activated) convolution followed by a pre-activation residual
block; levels are joined by max-pooling with a per-level down factor such as (1, 2, 2) and, on
the way up, by trilinear interpolation plus a 1x1 convolution (``nontrainable``, the default)
or a transposed convolution whose kernel equals its stride (``deconv``), added (not
concatenated) to the skip. Neither has overlapping kernel footprints, so neither makes the
checkerboard artefacts of overlapping transposed convolutions. The first ``num_2d_levels``
levels use (1, k, k) kernels for anisotropic data. Every constructor argument changes the
network; nothing is accepted and ignored.
"""

from __future__ import annotations

import torch
from torch import nn

from volseg.models.blocks import Head, ResBlock, make_activation, make_norm, same_conv
from volseg.models.options import UPSAMPLE

UPSAMPLE_MODES = UPSAMPLE["rsunet"]


def _pre_conv(
    cin: int, cout: int, kernel: tuple[int, ...], dims: int, *, norm: str, activation: str
) -> nn.Sequential:
    return nn.Sequential(
        make_norm(norm, cin, dims),
        make_activation(activation, cin),
        same_conv(cin, cout, kernel, dims),
    )


def _up(
    cin: int, cout: int, factor: tuple[int, ...], dims: int, mode: str, **act: str
) -> nn.Sequential:
    if mode == "deconv":
        cls = nn.ConvTranspose3d if dims == 3 else nn.ConvTranspose2d
        pre = (make_norm(act["norm"], cin, dims), make_activation(act["activation"], cin))
        return nn.Sequential(*pre, cls(cin, cout, factor, stride=factor))
    interp = nn.Upsample(scale_factor=factor, mode="trilinear" if dims == 3 else "bilinear")
    return nn.Sequential(interp, _pre_conv(cin, cout, (1,) * dims, dims, **act))


class RSUNet(nn.Module):
    """Residual symmetric U-Net with additive skips and optional deep supervision.

    Args:
        in_channels: image channels.
        out_channels: output (logit) channels.
        filters: channels per resolution level, finest first; its length is the depth.
        down_factors: one pooling factor per level transition (``len(filters) - 1`` entries).
        kernel_size: convolution kernel per axis (odd).
        num_2d_levels: leading (finest) levels that use in-plane (1, k, k) kernels (3D only).
        norm: ``batch``, ``group`` or ``instance``.
        activation: ``relu``, ``elu``, ``leaky_relu`` or ``gelu``.
        dropout: channel dropout rate inside every residual block.
        upsample: ``nontrainable`` (trilinear, bilinear in 2D, + 1x1 conv) or ``deconv``
            (transposed convolution, kernel = stride = down factor).
        dims: 3, or 2 for a network over single z-slices.
        deep_supervision: add one head per coarser level; in training mode ``forward`` then
            returns ``[full, 1/2, ...]`` logits, finest first.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        out_channels: int,
        filters: list[int],
        down_factors: list[tuple[int, ...]],
        kernel_size: tuple[int, ...],
        num_2d_levels: int,
        norm: str,
        activation: str,
        dropout: float,
        upsample: str,
        dims: int,
        deep_supervision: bool,
    ) -> None:
        super().__init__()
        levels = len(filters)
        self.deep_supervision = deep_supervision
        kernels = [
            (1, *kernel_size[1:]) if (dims == 3 and i < num_2d_levels) else tuple(kernel_size)
            for i in range(levels)
        ]
        self.kernels = kernels
        self.down_factors = list(down_factors)
        self.upsample = upsample
        self.dims = dims
        act = {"norm": norm, "activation": activation}
        self.stem = same_conv(in_channels, filters[0], kernels[0], dims)
        self.encoders = nn.ModuleList()
        self.decoders = nn.ModuleList()
        self.pools = nn.ModuleList()
        self.ups = nn.ModuleList()
        pool = nn.MaxPool3d if dims == 3 else nn.MaxPool2d
        for i, f in enumerate(filters):
            entry = (
                nn.Identity() if i == 0 else _pre_conv(filters[i - 1], f, kernels[i], dims, **act)
            )
            block = ResBlock(f, kernels[i], dims, dropout=dropout, **act)
            self.encoders.append(nn.Sequential(entry, block))
            if i == levels - 1:
                continue
            factor = tuple(down_factors[i])
            self.pools.append(pool(factor, stride=factor))
            self.ups.append(_up(filters[i + 1], f, factor, dims, upsample, **act))
            self.decoders.append(
                nn.Sequential(
                    _pre_conv(f, f, kernels[i], dims, **act),
                    ResBlock(f, kernels[i], dims, dropout=dropout, **act),
                )
            )
        n_heads = levels if deep_supervision else 1
        self.heads = nn.ModuleList(
            Head(filters[i], out_channels, dims, **act) for i in range(n_heads)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        x = self.stem(x)
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(x)
            if i < len(self.pools):
                skips.append(x)
                x = self.pools[i](x)
        features = [x]
        for i in reversed(range(len(self.decoders))):
            x = self.decoders[i](self.ups[i](x) + skips[i])
            features.append(x)
        features.reverse()  # finest first
        if self.deep_supervision and self.training:
            return [head(f) for head, f in zip(self.heads, features, strict=True)]
        return self.heads[0](features[0])
