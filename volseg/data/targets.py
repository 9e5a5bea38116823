"""Training targets from a label volume: ``make_targets(labels, voxel_size, spec)``.

Each target is one float32 channel ``(z, y, x)`` (``affinity``: one per offset, see
:func:`volseg.channels.target_channels`); ``make_targets`` stacks them channel-first in spec
order. Targets (``name``: kwargs):

- ``binary``: 1 on foreground (``labels > 0``), 0 on background.
- ``instance_boundary`` (thickness=1, edge_mode="seg-all", mode_2d=False, connectivity=26): 1 on
  boundary voxels, see :func:`volseg.data.boundary.instance_boundary` for the exact rule.
- ``instance_edt`` (mode="3d", quantize=False, levels=10): per-instance distance normalised to
  (0, 1], -1 on background, see :func:`volseg.data.edt_maps.instance_edt`.
- ``semantic_edt`` (alpha_fore=80, alpha_back=500, mode="3d"): signed tanh distance in [-1, 1],
  see :func:`volseg.data.edt_maps.semantic_edt`.
- ``affinity`` (offsets="nearest", unit="voxel"): one 1/0 channel per offset, -1 where the
  partner voxel lies outside the patch or either voxel is masked out, see
  :func:`volseg.data.affinity.affinities`; ``unit: nm`` offsets use ``voxel_size``.

Ignore region: voxels where ``mask`` is False are set to -1 in *every* channel. For
``binary``, ``instance_boundary`` and ``affinity`` (values 0/1) -1 therefore means "ignore".
``instance_edt`` and ``semantic_edt`` also use -1 (or values near it) for background, so for
those channels the ignore region must be taken from the boolean mask itself, never from the
value.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import fastremap
import numpy as np

from volseg.channels import affinity_offsets, target_layout
from volseg.data.affinity import affinities
from volseg.data.boundary import instance_boundary
from volseg.data.edt_maps import instance_edt, semantic_edt
from volseg.errors import VolsegError
from volseg.io.volume import as_triple

Triple = tuple[float, float, float]


def _binary(labels: np.ndarray, voxel_size: Triple) -> np.ndarray:
    return (labels > 0).astype(np.float32)


def _boundary(
    labels: np.ndarray,
    voxel_size: Triple,
    *,
    thickness: int = 1,
    edge_mode: str = "seg-all",
    mode_2d: bool = False,
    connectivity: int = 26,
) -> np.ndarray:
    if not isinstance(mode_2d, bool):
        raise VolsegError(f"instance_boundary mode_2d must be true or false, got {mode_2d!r}.")
    bd = instance_boundary(
        labels, thickness=thickness, edge_mode=edge_mode, mode_2d=mode_2d, connectivity=connectivity
    )
    return bd.astype(np.float32)


def _affinity(
    labels: np.ndarray,
    voxel_size: Triple,
    *,
    offsets: Any = "nearest",
    unit: str = "voxel",
    mask: np.ndarray | None = None,
) -> np.ndarray:
    kwargs = {"offsets": offsets, "unit": unit}
    return affinities(labels, affinity_offsets(kwargs, voxel_size=voxel_size), mask=mask)


#: Targets that take the ignore mask themselves (a pair is ignored if either voxel is).
MASKED_TARGETS = ("affinity",)

TARGETS: dict[str, Callable[..., np.ndarray]] = {
    "binary": _binary,
    "instance_boundary": _boundary,
    "instance_edt": instance_edt,
    "semantic_edt": semantic_edt,
    "affinity": _affinity,
}


def target_kwargs(name: str) -> dict[str, Any]:
    """Accepted keyword arguments of target ``name`` with their defaults."""
    params = inspect.signature(TARGETS[name]).parameters.values()
    keyword = [p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "mask"]
    return {p.name: p.default for p in keyword}


def _plain(value: Any) -> Any:
    """OmegaConf containers to plain Python (without importing omegaconf when unused)."""
    if type(value).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        return OmegaConf.to_container(value, resolve=True)
    return value


def parse_spec(spec: Iterable[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Validate a target spec; return ``(name, kwargs)`` pairs.

    Args:
        spec: list of ``{"name": str, "kwargs": {...}}`` mappings (``kwargs`` optional) or bare
            target names; OmegaConf lists/dicts are accepted.

    Returns:
        One ``(name, kwargs)`` pair per target, in order.
    """
    spec = _plain(spec)
    if isinstance(spec, str | Mapping) or not isinstance(spec, Iterable):
        raise VolsegError(
            f"target spec must be a list of {{name, kwargs}} entries, got {type(spec).__name__}."
        )
    out: list[tuple[str, dict[str, Any]]] = []
    for i, entry in enumerate(spec):
        entry = {"name": entry} if isinstance(entry, str) else _plain(entry)
        if not isinstance(entry, Mapping):
            raise VolsegError(
                f"target spec entry {i} must be a mapping with 'name', got {entry!r}."
            )
        extra = sorted(set(entry) - {"name", "kwargs"})
        if extra:
            raise VolsegError(
                f"target spec entry {i} has unknown key(s) {extra}; expected 'name' and 'kwargs'."
            )
        name = entry.get("name")
        if name not in TARGETS:
            raise VolsegError(
                f"unknown target {name!r} in entry {i}; valid targets: {', '.join(TARGETS)}."
            )
        kwargs = entry.get("kwargs") or {}
        if not isinstance(kwargs, Mapping):
            raise VolsegError(f"kwargs of target {name!r} must be a mapping, got {kwargs!r}.")
        accepted = target_kwargs(name)
        unknown = sorted(set(kwargs) - set(accepted))
        if unknown:
            valid = ", ".join(accepted) if accepted else "none"
            raise VolsegError(
                f"target {name!r} does not accept {', '.join(map(str, unknown))}; "
                f"accepted kwargs: {valid}."
            )
        out.append((name, dict(kwargs)))
    if not out:
        raise VolsegError("target spec is empty; give at least one target.")
    return out


def _check_labels(labels: Any) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise VolsegError(
            f"labels must be an integer array (0 = background), got dtype {labels.dtype}."
        )
    if labels.ndim != 3:
        raise VolsegError(f"labels must be a (z, y, x) volume, got shape {labels.shape}.")
    if np.issubdtype(labels.dtype, np.signedinteger):
        if labels.size and labels.min() < 0:
            raise VolsegError(f"labels must be >= 0, found {labels.min()}.")
        labels = labels.astype(np.uint64 if labels.dtype.itemsize > 4 else np.uint32)
    return labels


def _check_voxel_size(voxel_size: Any) -> Triple:
    triple = as_triple(voxel_size, name="voxel_size")
    if not all(np.isfinite(v) and v > 0 for v in triple):
        raise VolsegError(f"voxel_size must be three positive nanometre values, got {triple}.")
    return triple


def make_targets(
    labels: Any,
    voxel_size: Any,
    spec: Iterable[Any],
    *,
    mask: Any = None,
) -> np.ndarray:
    """Build target maps from instance labels.

    Args:
        labels: integer label volume ``(z, y, x)``, 0 = background.
        voxel_size: ``(z, y, x)`` voxel size in nm (a scalar means isotropic).
        spec: targets in channel order, e.g.
            ``[{"name": "binary"}, {"name": "instance_edt", "kwargs": {"mode": "2d"}}]``.
        mask: optional boolean ``(z, y, x)`` array, False = ignore; those voxels get -1 in every
            channel (see the module docstring for what -1 means per target); affinity pairs
            with one such voxel are -1 too.

    Returns:
        float32 array ``(c, z, y, x)``: one channel per spec entry, one per offset for
        ``affinity``.
    """
    pairs = parse_spec(spec)
    labels = _check_labels(labels)
    voxel_size = _check_voxel_size(voxel_size)
    valid = None
    if mask is not None:
        valid = np.asarray(mask)
        if valid.shape != labels.shape:
            raise VolsegError(
                f"mask shape {valid.shape} does not match labels shape {labels.shape}."
            )
        if valid.dtype != bool:
            if not np.issubdtype(valid.dtype, np.integer):
                raise VolsegError(
                    f"mask must be boolean (False = ignore), got dtype {valid.dtype}."
                )
            valid = valid != 0
    # Consecutive ids in the smallest dtype: every target is invariant to relabelling, and the
    # filters/EDT run faster on narrow integers.
    ids, _ = fastremap.renumber(np.ascontiguousarray(labels), preserve_zero=True, in_place=False)
    layout = target_layout(pairs, voxel_size=voxel_size)
    maps = np.empty((layout[-1][2], *labels.shape), dtype=np.float32)
    for (name, kwargs), (_, first, end) in zip(pairs, layout, strict=True):
        extra = {"mask": valid} if name in MASKED_TARGETS else {}
        maps[first:end] = TARGETS[name](ids, voxel_size, **kwargs, **extra)
    if valid is not None:
        maps[:, ~valid] = -1.0
    return maps
