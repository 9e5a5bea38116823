"""The network of an exported volseg model, as shipped inside a BioImage Model Zoo package.

This file is copied verbatim into every package (as ``volseg_network.py``) and named there as
the architecture of the ``pytorch_state_dict`` weights, so it imports nothing but torch and
``volseg.models``: a consumer of those weights needs volseg installed (the package's
``environment.yaml`` says so); the TorchScript weights need torch only.

:class:`VolsegExport` rebuilds the network from the checkpoint's ``model`` section (the keys
that shape it) with :func:`volseg.models.build`, so the state dict keys and the numbers are
those of volseg's own network, and adapts it to the package's axes:

- a 3D network takes and returns ``(batch, channel, z, y, x)``, as in volseg;
- a 2D network (``spatial_dims: 2``) takes ``(batch, channel, y, x)``: one z-slice, which
  volseg's network sees as a volume of one slice;
- ``activations`` (one per output channel: ``sigmoid``, ``tanh``) are applied inside the
  network when the spec has no post-processing op for one of them (``tanh``); when every
  channel is a probability the network returns logits and the package's post-processing
  applies ``sigmoid``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

#: The activations this wrapper applies, by name.
ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}


def _groups(activations: Sequence[str]) -> list[tuple[int, int, str]]:
    """Runs of equal activations as ``(start, end, name)``."""
    groups: list[tuple[int, int, str]] = []
    for i, name in enumerate(activations):
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")
        if groups and groups[-1][2] == name:
            groups[-1] = (groups[-1][0], i + 1, name)
        else:
            groups.append((i, i + 1, name))
    return groups


class VolsegExport(nn.Module):
    """A volseg network with the axes and activations of its exported package.

    Args:
        model: the ``model`` section (at least the keys that shape the network).
        activations: one activation per output channel applied in ``forward``; empty:
            return logits.
    """

    def __init__(self, model: Mapping[str, Any], activations: Sequence[str] = ()) -> None:
        super().__init__()
        from volseg.models import build

        self.net = build(dict(model))
        self.slice_wise = self.net.spatial_dims == 2
        if activations and len(activations) != self.net.out_channels:
            raise ValueError(
                f"{len(activations)} activations for {self.net.out_channels} output channels"
            )
        self.groups = _groups(activations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.slice_wise:
            x = x.unsqueeze(2)  # (b, c, y, x) -> (b, c, 1, y, x)
        y = self.net(x)
        if self.slice_wise:
            y = y.squeeze(2)
        if not self.groups:
            return y
        parts = [ACTIVATIONS[name](y[:, start:end]) for start, end, name in self.groups]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
