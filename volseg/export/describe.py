"""The pieces of a spec 0.5 model description: axes, tensors, weights.

Axes. A 3D network takes ``(batch, channel, z, y, x)``; a 2D network ``(batch, channel, y, x)``
(one z-slice; see :mod:`volseg.export.network`). Each spatial input axis is a
``ParameterizedSize``: ``step`` is the network's total down factor on that axis and ``min``
twice that (a single step would leave one voxel at the coarsest level, where some norms fail),
or the test tile when that is smaller. Output axes repeat the input's sizes. Space axes carry
the network grid's voxel size in nanometres (``data.train_resolution``, else the training
image's voxel size); an image on another grid should be resampled first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

INPUT_ID = "raw"
OUTPUT_ID = "maps"
#: Output range of each activation.
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def hashed_file(path: Path, cls: Any = None, **fields: Any) -> Any:
    """A file description with its sha256 (computed here: the export stays offline)."""
    from bioimageio.spec.model import v0_5 as spec

    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return (cls or spec.FileDescr)(source=Path(path), sha256=spec.Sha256(digest), **fields)


def spatial_axes(dims: int) -> list[str]:
    """``["z", "y", "x"]`` or ``["y", "x"]``."""
    return ["z", "y", "x"][-dims:]


def unique_names(names: Sequence[str]) -> list[str]:
    """Channel names made unique with an index where a target spans several channels."""
    counts = {n: names.count(n) for n in names}
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if counts[name] == 1:
            out.append(name)
        else:
            out.append(f"{name}{seen.get(name, 0)}")
            seen[name] = seen.get(name, 0) + 1
    return out


def _space(spec: Any, axis: str, size: Any, voxel: Mapping[str, float] | None, output: bool) -> Any:
    extra: dict[str, Any] = {}
    if voxel is not None:
        extra = {"unit": "nanometer", "scale": float(voxel[axis])}
    cls = spec.SpaceOutputAxis if output else spec.SpaceInputAxis
    return cls(id=spec.AxisId(axis), size=size, **extra)


def input_tensor(
    *,
    in_channels: int,
    dims: int,
    divisor: Sequence[int],
    tile: Sequence[int],
    voxel: Mapping[str, float] | None,
    preprocessing: list[Any],
    test_tensor: Path,
) -> Any:
    """The input tensor description (``divisor`` and ``tile`` on the network's axes)."""
    from bioimageio.spec.model import v0_5 as spec

    names = ["raw"] if in_channels == 1 else [f"raw{i}" for i in range(in_channels)]
    axes: list[Any] = [spec.BatchAxis(), spec.ChannelAxis(channel_names=names)]
    for axis, step, size in zip(spatial_axes(dims), divisor, tile, strict=True):
        param = spec.ParameterizedSize(min=min(2 * step, size), step=step)
        axes.append(_space(spec, axis, param, voxel, output=False))
    return spec.InputTensorDescr(
        id=spec.TensorId(INPUT_ID),
        description="EM image, raw intensities",
        axes=axes,
        data=spec.IntervalOrRatioDataDescr(type="float32"),
        test_tensor=hashed_file(test_tensor),
        preprocessing=preprocessing,
    )


def output_tensor(
    *,
    channels: Sequence[str],
    activations: Sequence[str],
    dims: int,
    voxel: Mapping[str, float] | None,
    postprocessing: list[Any],
    test_tensor: Path,
) -> Any:
    """The output tensor description: one channel per map, sizes those of the input."""
    from bioimageio.spec.model import v0_5 as spec

    axes: list[Any] = [spec.BatchAxis(), spec.ChannelAxis(channel_names=unique_names(channels))]
    for axis in spatial_axes(dims):
        ref = spec.SizeReference(tensor_id=spec.TensorId(INPUT_ID), axis_id=spec.AxisId(axis))
        axes.append(_space(spec, axis, ref, voxel, output=True))
    data = [spec.IntervalOrRatioDataDescr(type="float32", range=RANGES[a]) for a in activations]
    return spec.OutputTensorDescr(
        id=spec.TensorId(OUTPUT_ID),
        description=f"maps: {', '.join(channels)}",
        axes=axes,
        data=data,
        test_tensor=hashed_file(test_tensor),
        postprocessing=postprocessing,
    )


def weights(
    *,
    state_dict: Path,
    torchscript: Path,
    architecture: Path,
    kwargs: Mapping[str, Any],
    environment: Path,
    authors: list[Any],
) -> Any:
    """``pytorch_state_dict`` (the original) and ``torchscript`` (traced from it)."""
    import torch
    from bioimageio.spec.model import v0_5 as spec

    version = spec.Version(torch.__version__.split("+")[0])
    arch = hashed_file(
        architecture, spec.ArchitectureFromFileDescr,
        callable=spec.Identifier("VolsegExport"), kwargs=dict(kwargs),
    )  # fmt: skip
    return spec.WeightsDescr(
        pytorch_state_dict=hashed_file(
            state_dict,
            spec.PytorchStateDictWeightsDescr,
            architecture=arch,
            pytorch_version=version,
            dependencies=hashed_file(environment),
            authors=authors or None,
        ),  # fmt: skip
        torchscript=hashed_file(
            torchscript,
            spec.TorchscriptWeightsDescr,
            pytorch_version=version,
            parent="pytorch_state_dict",
            comment="traced with torch.jit.trace from the pytorch_state_dict weights",
        ),
    )
