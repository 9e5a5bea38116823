"""Building blocks for volseg's own networks: norm/activation factories, residual block, heads."""

from __future__ import annotations

import math

import torch
from torch import nn

MAX_GROUPS = 8


def conv_cls(dims: int) -> type[nn.Module]:
    """``nn.Conv3d`` for 3D networks, ``nn.Conv2d`` for 2D ones."""
    return nn.Conv3d if dims == 3 else nn.Conv2d


def group_count(channels: int) -> int:
    """Groups for GroupNorm: the largest divisor of ``channels`` that is <= 8."""
    return math.gcd(channels, MAX_GROUPS)


def make_norm(kind: str, channels: int, dims: int) -> nn.Module:
    """A normalisation layer: ``batch``, ``group`` (<= 8 groups) or ``instance`` (affine)."""
    if kind == "batch":
        return nn.BatchNorm3d(channels) if dims == 3 else nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(group_count(channels), channels)
    if kind == "instance":
        cls = nn.InstanceNorm3d if dims == 3 else nn.InstanceNorm2d
        return cls(channels, affine=True)
    raise ValueError(f"unknown norm {kind!r}")  # callers validate first


def make_activation(kind: str, channels: int) -> nn.Module:
    """Activation: relu, leakyrelu (slope 0.01), prelu (one slope per channel), elu, gelu."""
    if kind == "relu":
        return nn.ReLU()
    if kind == "leakyrelu":
        return nn.LeakyReLU(0.01)
    if kind == "prelu":
        return nn.PReLU(channels)
    if kind == "elu":
        return nn.ELU()
    if kind == "gelu":
        return nn.GELU()
    raise ValueError(f"unknown activation {kind!r}")  # callers validate first


def same_conv(
    cin: int, cout: int, kernel: tuple[int, ...], dims: int, *, bias: bool = True
) -> nn.Module:
    """Convolution with odd ``kernel`` and 'same' zero padding (output shape = input shape)."""
    padding = tuple(k // 2 for k in kernel)
    return conv_cls(dims)(cin, cout, kernel, padding=padding, bias=bias)


class ResBlock(nn.Module):
    """Pre-activation residual block: ``x + conv(drop(act(norm(conv(act(norm(x)))))))``.

    Args:
        channels: input and output channels.
        kernel: kernel size per axis (odd).
        dims: 2 or 3.
        norm: normalisation kind.
        activation: activation kind.
        dropout: dropout rate between the two convolutions (0 = none).
    """

    def __init__(
        self,
        channels: int,
        kernel: tuple[int, ...],
        dims: int,
        *,
        norm: str,
        activation: str,
        dropout: float,
    ) -> None:
        super().__init__()
        drop: nn.Module = nn.Identity()
        if dropout > 0:
            drop = nn.Dropout3d(dropout) if dims == 3 else nn.Dropout2d(dropout)
        self.body = nn.Sequential(
            make_norm(norm, channels, dims),
            make_activation(activation, channels),
            same_conv(channels, channels, kernel, dims),
            make_norm(norm, channels, dims),
            make_activation(activation, channels),
            drop,
            same_conv(channels, channels, kernel, dims),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Head(nn.Module):
    """Output head for pre-activation features: norm, activation, 1x1(x1) convolution."""

    def __init__(self, cin: int, cout: int, dims: int, *, norm: str, activation: str) -> None:
        super().__init__()
        self.norm = make_norm(norm, cin, dims)
        self.act = make_activation(activation, cin)
        self.conv = conv_cls(dims)(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.act(self.norm(x)))
