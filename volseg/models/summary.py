"""Model summaries: layers, parameter counts, receptive field.

The receptive field is measured empirically for every architecture: the gradient of the centre
output voxel with respect to the input is non-zero exactly on the voxels that influence it. To
make that support data-independent the measurement runs on a float64 copy of the network with
normalisation layers and activations replaced by identities (instance/group norm would
otherwise couple every voxel through their statistics, and ReLU zeros would hide voxels) and
max-pooling replaced by average pooling of the same window. For ``rsunet`` the receptive field
is also computed analytically (:func:`rsunet_receptive_field`); the tests check they agree.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from volseg.models.network import VolsegNet
from volseg.models.rsunet import RSUNet

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm)
_NORMS += (nn.GroupNorm, nn.LayerNorm)
_ACTS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid)
_ACTS += (nn.Tanh, nn.Softmax)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of the centre output voxel.

    Attributes:
        size: extent in voxels per axis ``(z, y, x)``.
        truncated: per axis, True when the field reached the border of the probe input, so the
            true extent is at least ``size``.
    """

    size: tuple[int, ...]
    truncated: tuple[bool, ...]


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """``(total, trainable)`` parameter counts."""
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


def layer_table(model: nn.Module, *, depth: int = 2) -> list[tuple[str, str, int]]:
    """``(name, type, parameters)`` for every module down to ``depth`` levels below the root."""
    rows = []
    for name, module in model.named_modules():
        level = 0 if not name else name.count(".") + 1
        empty = isinstance(module, nn.ModuleList) and len(module) == 0
        if 0 < level <= depth and not empty:
            rows.append((name, type(module).__name__, sum(p.numel() for p in module.parameters())))
    return rows


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _linearise(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, _NORMS + _ACTS):
            setattr(module, name, nn.Identity())
        elif isinstance(child, nn.MaxPool3d | nn.MaxPool2d):
            avg = nn.AvgPool3d if isinstance(child, nn.MaxPool3d) else nn.AvgPool2d
            setattr(module, name, avg(child.kernel_size, child.stride, child.padding))
        else:
            _linearise(child)


def receptive_field(model: VolsegNet, input_shape: tuple[int, int, int]) -> ReceptiveField:
    """Measure the receptive field of the centre output voxel (see the module docstring).

    Args:
        model: a built network.
        input_shape: ``(z, y, x)`` probe size; must satisfy the model's divisibility.
    """
    probe = copy.deepcopy(model).double().eval()
    _linearise(probe)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, model.in_channels, *input_shape, dtype=torch.float64, generator=gen)
    x = x.to(_device(model)).requires_grad_(True)
    out = probe(x)
    centre = tuple(s // 2 for s in out.shape[2:])
    out[(0, slice(None), *centre)].sum().backward()
    support = x.grad.abs().sum(dim=(0, 1)) > 0
    sizes, truncated = [], []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        idx = torch.nonzero(support.any(dim=other)).flatten()
        lo, hi = int(idx.min()), int(idx.max())
        sizes.append(hi - lo + 1)
        truncated.append(lo == 0 and hi == input_shape[axis] - 1 and input_shape[axis] > 1)
    return ReceptiveField(tuple(sizes), tuple(truncated))


def _expand(iv: tuple[int, int], r: int) -> tuple[int, int]:
    return iv[0] - r, iv[1] + r


def _pool_back(iv: tuple[int, int], f: int) -> tuple[int, int]:
    return iv[0] * f, iv[1] * f + f - 1


def _up_back(iv: tuple[int, int], f: int, mode: str) -> tuple[int, int]:
    if f == 1:
        return iv
    if mode == "deconv":  # kernel = stride: fine p comes from coarse p // f only
        return iv[0] // f, iv[1] // f
    # trilinear, align_corners=False: fine p samples coarse (p + 0.5) / f - 0.5 and its neighbour
    return math.floor((iv[0] + 0.5) / f - 0.5), math.floor((iv[1] + 0.5) / f - 0.5) + 1


def rsunet_receptive_field(net: RSUNet, input_shape: tuple[int, int, int]) -> tuple[int, ...]:
    """Analytic receptive field ``(z, y, x)`` of the centre output voxel of an :class:`RSUNet`.

    The interval of input voxels the centre voxel depends on is propagated backwards through
    every layer (convolution ``k``: widen by ``k // 2``; pooling ``f``: ``[lo f, hi f + f - 1]``;
    interpolation or transposed convolution: the coarse voxels used) and through both branches
    of each skip. Exact for positions away from the border, unbounded by the input size; upsampling
    and pooling make it depend slightly on the position, hence the shape argument.
    """
    dims = net.dims
    shape = tuple(input_shape[-dims:])
    kernels = [k[-dims:] for k in net.kernels]
    factors = net.down_factors
    last = len(kernels) - 1

    def enc_back(level: int, iv: tuple[int, int], a: int) -> tuple[int, int]:
        iv = _expand(iv, 3 * (kernels[level][a] // 2))  # entry/stem conv + two residual convs
        if level == 0:
            return iv
        return enc_back(level - 1, _pool_back(iv, factors[level - 1][a]), a)

    def dec_back(level: int, iv: tuple[int, int], a: int) -> tuple[int, int]:
        if level == last:
            return enc_back(level, iv, a)
        iv = _expand(iv, 3 * (kernels[level][a] // 2))  # pre-conv + two residual convs
        skip = enc_back(level, iv, a)
        deep = dec_back(level + 1, _up_back(iv, factors[level][a], net.upsample), a)
        return min(skip[0], deep[0]), max(skip[1], deep[1])

    sizes = []
    for a in range(dims):
        lo, hi = dec_back(0, (shape[a] // 2, shape[a] // 2), a)
        sizes.append(hi - lo + 1)
    return tuple(sizes) if dims == 3 else (1, *sizes)


def narrow_twin(model_cfg: Any, *, width: int = 2) -> VolsegNet:
    """The same network layout with every level ``width`` channels wide, for a cheap
    receptive-field measurement: the field depends on kernels, strides and topology only."""
    from volseg.models.registry import build

    return build(model_cfg, width=width)


def summarize(
    model: VolsegNet,
    *,
    input_shape: tuple[int, int, int],
    depth: int = 2,
    probe: VolsegNet | None = None,
) -> str:
    """Text summary: layer table, parameter counts, output shapes and receptive field.

    Args:
        model: the network.
        input_shape: ``(z, y, x)`` probe input.
        depth: module nesting depth of the layer table.
        probe: network to measure the receptive field on (e.g. :func:`narrow_twin`);
            default ``model``.
    """
    lines = [f"architecture: {model.architecture} ({model.spatial_dims}D)"]
    lines.append(f"{'layer':<40} {'type':<28} {'parameters':>12}")
    for name, kind, n in layer_table(model, depth=depth):
        lines.append(f"{name:<40} {kind:<28} {n:>12,}")
    total, trainable = count_parameters(model)
    lines.append(f"parameters: {total:,} ({trainable:,} trainable)")
    probe = model if probe is None else probe
    # output shapes from a copy of the probe (train-mode batch norm would update statistics)
    copy_ = copy.deepcopy(probe).eval()
    x = torch.zeros(1, model.in_channels, *input_shape, device=_device(probe))
    with torch.no_grad():
        shapes = [tuple(copy_(x).shape)]
        if model.deep_supervision:
            shapes = [tuple(o.shape) for o in copy_.train()(x)]
    lines.append(f"input {tuple(x.shape)} -> output(s) {', '.join(map(str, shapes))}")
    rf = receptive_field(probe, input_shape)
    text = " x ".join(f">={s}" if t else str(s) for s, t in zip(rf.size, rf.truncated, strict=True))
    where = "" if probe is model else ", on a narrow twin"
    lines.append(f"receptive field (z, y, x), empirical (input gradient{where}): {text} voxels")
    if any(rf.truncated):
        lines.append("  (reaches the probe border on axes marked >=; use a larger input shape)")
    if isinstance(model.net, RSUNet):
        analytic = " x ".join(map(str, rsunet_receptive_field(model.net, input_shape)))
        lines.append(f"receptive field (z, y, x), analytic: {analytic} voxels")
    return "\n".join(lines)
