"""Attention residual U-Net, composed of MONAI building blocks.

MONAI offers a residual U-Net (``monai.networks.nets.UNet`` with ``num_res_units``) and an
attention U-Net (``AttentionUnet``, plain conv blocks, batch norm and ReLU fixed), but no network
with both, so this one is written here from public MONAI blocks:

- every encoder and decoder stage is a :class:`monai.networks.blocks.ResidualUnit`
  (``num_res_units`` conv-norm-dropout-activation subunits plus a skip path); the encoder
  downsamples with a strided residual unit, one stride per level (anisotropic allowed);
- the decoder upsamples with a transposed :class:`monai.networks.blocks.Convolution` whose
  kernel equals its stride (exact, non-overlapping upsampling on every axis, 1 where an axis
  is not pooled), gates the skip connection with an additive attention gate (Oktay et al.
  2018, arXiv:1804.03999), concatenates, and refines with a residual unit.

The gate is built here from ``Convolution`` blocks too: MONAI's ``AttentionBlock`` lives inside
``monai.networks.nets.attentionunet`` (not in its ``__all__``) and hard-codes batch norm, while
this network takes ``norm`` from the config. As in the paper the gating map ``psi`` is a 1x1
convolution and a sigmoid (no norm on the one-channel map).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from monai.networks.blocks import Convolution, ResidualUnit
from torch import nn

Spec = str | tuple[str, dict[str, Any]]


class AttentionGate(nn.Module):
    """Additive attention gate: ``skip * sigmoid(psi(relu(W_g g + W_x skip)))``.

    ``g`` (the upsampled decoder feature) and ``skip`` have the same spatial size.
    """

    def __init__(
        self, dims: int, gate_channels: int, skip_channels: int, inter_channels: int, norm: Spec
    ) -> None:
        super().__init__()

        def proj(cin: int) -> Convolution:  # 1x1 conv + norm, no activation
            return Convolution(
                dims, cin, inter_channels, kernel_size=1, act=None, norm=norm, adn_ordering="N"
            )

        self.w_g = proj(gate_channels)
        self.w_x = proj(skip_channels)
        self.psi = Convolution(dims, inter_channels, 1, kernel_size=1, conv_only=True)
        self.relu = nn.ReLU()

    def forward(self, g: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        alpha = torch.sigmoid(self.psi(self.relu(self.w_g(g) + self.w_x(skip))))
        return skip * alpha


class AttentionResUNet(nn.Module):
    """Residual U-Net with attention-gated skip connections.

    Args:
        dims: 2 or 3 spatial dimensions.
        in_channels: input channels.
        out_channels: output channels (logits from a final 1x1 convolution).
        filters: widths per level, finest first (``len(filters) - 1`` downsampling steps).
        down_factors: one per-axis stride (``dims``-tuple) per level transition.
        kernel_size: convolution kernel of the residual units (odd, int or per axis).
        num_res_units: conv subunits per residual unit (>= 1).
        norm: MONAI norm spec.
        act: MONAI activation spec.
        dropout: dropout rate inside the residual units.
    """

    def __init__(
        self, *, dims: int, in_channels: int, out_channels: int, filters: Sequence[int],
        down_factors: Sequence[Sequence[int]], kernel_size: int | Sequence[int],
        num_res_units: int, norm: Spec, act: Spec, dropout: float,
    ) -> None:  # fmt: skip
        super().__init__()
        if len(down_factors) != len(filters) - 1:
            raise ValueError("need one down factor per level transition")
        filters = list(filters)

        def unit(cin: int, cout: int, strides: Sequence[int] | int = 1) -> ResidualUnit:
            return ResidualUnit(
                dims, cin, cout, strides=strides, kernel_size=kernel_size,
                subunits=num_res_units, act=act, norm=norm, dropout=dropout,
            )  # fmt: skip

        # encoder[0] keeps the resolution; encoder[i] pools by down_factors[i - 1]; the last
        # one is the bottom of the U.
        self.encoder = nn.ModuleList([unit(in_channels, filters[0])])
        for i, f in enumerate(down_factors):
            self.encoder.append(unit(filters[i], filters[i + 1], tuple(f)))
        # decoder level i (coarse to fine in forward): filters[i + 1] -> filters[i]
        self.up = nn.ModuleList()
        self.gates = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for i, f in enumerate(down_factors):
            up = Convolution(
                dims, filters[i + 1], filters[i], strides=tuple(f), kernel_size=tuple(f),
                padding=0, output_padding=0, act=act, norm=norm, dropout=dropout,
                is_transposed=True,
            )  # fmt: skip
            self.up.append(up)
            self.gates.append(AttentionGate(dims, filters[i], filters[i], _inter(filters[i]), norm))
            self.decoder.append(unit(2 * filters[i], filters[i]))
        self.head = Convolution(dims, filters[0], out_channels, kernel_size=1, conv_only=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for enc in self.encoder[:-1]:
            x = enc(x)
            skips.append(x)
        x = self.encoder[-1](x)
        for i in reversed(range(len(self.decoder))):
            g = self.up[i](x)
            x = self.decoder[i](torch.cat([self.gates[i](g, skips[i]), g], dim=1))
        return self.head(x)


def _inter(channels: int) -> int:
    """Width of an attention gate's intermediate map (half the skip's, as in MONAI and Oktay)."""
    return max(1, channels // 2)


def gate_widths(filters: Sequence[int]) -> list[int]:
    """Intermediate widths of the gates (normalised too, so group norm must divide them)."""
    return [_inter(f) for f in filters[:-1]]
