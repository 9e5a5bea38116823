"""The model every volseg architecture is wrapped in.

:class:`VolsegNet` gives all architectures one contract:

- input ``(b, c, z, y, x)``; 2D networks (``spatial_dims=2``) run on every z-slice (z is folded
  into the batch) and return ``(b, c, z, y, x)`` too, so patches, losses and sliding windows
  never care which kind of network they feed;
- output: logits ``(b, out_channels, z, y, x)`` in eval mode; with deep supervision in training
  mode a list ``[full, 1/2, 1/4, ...]`` (finest first) of logits, one per decoder level;
- deep supervision for networks without their own: 1x1(x1) convolution heads on decoder
  features captured with forward hooks (``taps``);
- input checks (channels, dimensionality, divisibility by the total down factor) as
  :class:`VolsegError` instead of a shape error deep inside the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from volseg.errors import VolsegError
from volseg.models.blocks import conv_cls


class VolsegNet(nn.Module):
    """Wrap a core network with deep supervision, 2D slicing and input checks.

    Args:
        net: the core network; returns logits, or a list/tuple of logits (finest first) when it
            does deep supervision itself.
        architecture: registry name (kept for summaries and checkpoints).
        in_channels: expected input channels.
        out_channels: output channels.
        spatial_dims: 3, or 2 for a slice-wise network.
        divisor: per-axis number the (y, x) or (z, y, x) input shape must be divisible by.
        deep_supervision: return one output per decoder level in training mode.
        taps: ``(module, channels)`` pairs inside ``net`` whose outputs get a 1x1 head, finest
            first; empty when ``net`` does deep supervision itself.
    """

    def __init__(
        self,
        net: nn.Module,
        *,
        architecture: str,
        in_channels: int,
        out_channels: int,
        spatial_dims: int,
        divisor: Sequence[int],
        deep_supervision: bool,
        taps: Sequence[tuple[nn.Module, int]] = (),
    ) -> None:
        super().__init__()
        self.net = net
        self.architecture = architecture
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.spatial_dims = spatial_dims
        self.divisor = tuple(int(d) for d in divisor)
        self.deep_supervision = deep_supervision
        self.ds_heads = nn.ModuleList()
        self._captured: dict[int, torch.Tensor] = {}
        if deep_supervision:
            for i, (module, channels) in enumerate(taps):
                self.ds_heads.append(conv_cls(spatial_dims)(channels, out_channels, 1))
                module.register_forward_hook(partial(self._capture, i))

    def _capture(self, index: int, module: nn.Module, args: object, output: torch.Tensor) -> None:
        if self.deep_supervision and self.training:
            self._captured[index] = output

    def _check(self, x: torch.Tensor) -> None:
        if x.ndim != 5:
            raise VolsegError(
                f"{self.architecture} expects input of shape (batch, channels, z, y, x), "
                f"got {tuple(x.shape)}."
            )
        if x.shape[1] != self.in_channels:
            raise VolsegError(
                f"{self.architecture} was built for in_channels={self.in_channels} but the input "
                f"has {x.shape[1]} channels."
            )
        spatial = tuple(x.shape[-self.spatial_dims :])
        if any(s % d for s, d in zip(spatial, self.divisor, strict=True)):
            axes = "(z, y, x)" if self.spatial_dims == 3 else "(y, x)"
            raise VolsegError(
                f"{self.architecture} input shape {axes}={spatial} must be divisible by the "
                f"total down factor {self.divisor}."
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        """Logits, or a list of logits per decoder level (training with deep supervision)."""
        self._check(x)
        b, _, z = x.shape[:3]
        if self.spatial_dims == 2:
            x = x.transpose(1, 2).reshape(b * z, x.shape[1], *x.shape[3:])
        self._captured = {}
        try:
            out = self.net(x)
            outputs = list(out) if isinstance(out, list | tuple) else [out]
            if self.deep_supervision and self.training and len(self.ds_heads):
                outputs += [h(self._captured[i]) for i, h in enumerate(self.ds_heads)]
        finally:
            self._captured = {}
        if self.spatial_dims == 2:
            outputs = [o.reshape(b, z, *o.shape[1:]).transpose(1, 2) for o in outputs]
        if self.deep_supervision and self.training:
            return outputs
        return outputs[0]
