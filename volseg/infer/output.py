"""The maps output of a prediction: create it, or reopen an unfinished one to resume.

The node is made by ``volseg.io.create_volume`` (flagged incomplete) and flagged complete only
when every voxel is written, so a crashed run never looks finished. A finished output is
replaced only with ``overwrite``; an unfinished one is resumed (by a run of the same kind,
in-process or blockwise) only when its settings match those recorded in its attributes
(``prediction``), else refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from volseg.errors import VolsegError
from volseg.geometry import BlockGrid, Triple, triple
from volseg.infer.plan import PredictionPlan, maps_attrs
from volseg.infer.run_blocks import Records
from volseg.io import create_volume, is_complete, open_volume
from volseg.io.blocks import default_chunks
from volseg.io.paths import locate_for_write
from volseg.io.volume import Volume
from volseg.io.zarr_layout import node_type

DONE = "volseg_done"
NETMAPS = "volseg_netmaps"


def output_chunks(
    plan: PredictionPlan, chunks: Sequence[int] | None, block_shape: Sequence[int]
) -> tuple[int, int, int]:
    """Spatial chunks: ``chunks`` if given, else about 64^3 voxels; every chunk must tile the
    blocks (a default that does not is replaced by the block size on that axis)."""
    shape = plan.spatial_shape
    if chunks is None:
        picked = list(default_chunks(shape, plan.voxel_size))
        for a, (c, b) in enumerate(zip(picked, block_shape, strict=True)):
            if b % c and b < shape[a]:
                picked[a] = min(b, shape[a])
        return triple(picked)
    out = triple(min(int(c), n) for c, n in zip(chunks, shape, strict=True))
    for c, b, n in zip(out, block_shape, shape, strict=True):
        if b % c and b < n:
            raise VolsegError(
                f"inference.save_prediction.chunks {list(chunks)} must divide the block shape "
                f"{list(block_shape)} so that blocks write whole chunks."
            )
    return out


def node_exists(out: Any) -> bool:
    """True when a zarr node (or anything) already sits at the output location."""
    loc = locate_for_write(out)
    path = loc.target.joinpath(*loc.key.split("/")) if loc.key else loc.target
    return path.exists() or node_type(path) is not None


def _check_resumable(out: Any, plan: PredictionPlan, chunks: tuple[int, ...]) -> Volume:
    try:
        existing = open_volume(out)
    except VolsegError as exc:
        raise VolsegError(
            f"{out} exists but is not a readable maps output ({exc}); pass overwrite to replace it."
        ) from None
    recorded = existing.attrs.get("prediction") or {}
    expected = (plan.out_channels, *plan.spatial_shape)
    if existing.shape != expected or str(existing.dtype) != plan.dtype:
        raise VolsegError(
            f"unfinished output {out} holds {existing.dtype} maps of shape {existing.shape}, not "
            f"{plan.dtype} {expected}; pass overwrite to start again."
        )
    keys = sorted(plan.signature, key=lambda k: not k.endswith("_fingerprint"))  # inputs first
    for key in keys:
        value = plan.signature[key]
        if key.endswith("_fingerprint") and recorded.get(key) != value:
            what = key.removesuffix("_fingerprint")
            raise VolsegError(
                f"unfinished output {out} was started from another version of the {what} "
                f"{plan.signature[what]} (its files changed since); use --overwrite to start "
                "again."
            )
        if recorded.get(key) != value:
            raise VolsegError(
                f"unfinished output {out} was started with {key}={recorded.get(key)!r}, not "
                f"{value!r}; use --overwrite to start again."
            )
    stored_chunks = tuple(existing.data.chunks[1:])
    if stored_chunks != tuple(chunks):
        raise VolsegError(
            f"unfinished output {out} has chunks {list(stored_chunks)}, not {list(chunks)}; "
            "use the same block shape or pass overwrite."
        )
    return existing


def prepare_output(
    out: Any,
    plan: PredictionPlan,
    *,
    chunks: tuple[int, int, int],
    offset: Sequence[float],
    overwrite: bool,
) -> bool:
    """Create the maps node, or check an unfinished one for resuming; returns ``resumed``.

    Raises:
        VolsegError: a finished output without ``overwrite``, an unfinished one that cannot be
            resumed, or an output location that cannot be written.
    """
    if node_exists(out) and not overwrite:
        if is_complete(out):
            raise VolsegError(f"{out} already holds finished maps; pass overwrite to replace them.")
        _check_resumable(out, plan, chunks)
        return True
    try:
        create_volume(
            out,
            shape=(plan.out_channels, *plan.spatial_shape),
            dtype=plan.dtype,
            chunks=chunks,
            voxel_size=plan.voxel_size,
            offset=offset,
            kind="maps",
            attrs=maps_attrs(plan),
            overwrite=overwrite,
        )
    except OSError as exc:
        raise VolsegError(f"cannot write the output {out}: {exc.strerror or exc}.") from None
    return False


def discard_output(out: Any) -> None:
    """Delete the unfinished maps node ``out`` (made by this run; a finished node is kept)."""
    from volseg.atomic import remove

    if is_complete(out):
        return
    loc = locate_for_write(out)
    path = loc.target.joinpath(*loc.key.split("/")) if loc.key else loc.target
    remove(path)
    parent = path.parent
    while parent != loc.target.parent and parent.is_dir() and _only_metadata(parent):
        remove(parent)
        parent = parent.parent


def _only_metadata(folder: Any) -> bool:
    return all(p.name == "zarr.json" for p in folder.iterdir())


def writable_array(out: Any) -> Any:
    """The level-0 ``zarr.Array`` of the maps node, opened for writing."""
    import zarr

    loc = locate_for_write(out)
    group = zarr.open_group(str(loc.target), path=loc.key or "", mode="r+")
    return group["s0"]


def done_records(out: Any) -> Records:
    """Where the blocks of a blockwise prediction are recorded: ``volseg_done`` in the node."""
    loc = locate_for_write(out)
    return Records(str(loc.target), f"{loc.key}/{DONE}" if loc.key else DONE)


def netmaps_array(out: Any, plan: PredictionPlan) -> Any:
    """The float32 network-grid maps of a rescaled in-process prediction, kept in the maps
    node (so a resumed run finds them) until they are resampled; made when absent."""
    import zarr

    loc = locate_for_write(out)
    group = zarr.open_group(str(loc.target), path=loc.key or "", mode="r+")
    shape = (plan.out_channels, *plan.rescale.net_shape)
    if NETMAPS in group and tuple(group[NETMAPS].shape) == shape:
        return group[NETMAPS]
    return group.create_array(
        NETMAPS, shape=shape, dtype="float32", fill_value=0.0, overwrite=True,
        chunks=(shape[0], *(min(64, n) for n in shape[1:])),
    )  # fmt: skip


def drop_netmaps(out: Any) -> None:
    """Delete the network-grid maps once the data-grid maps are written."""
    import zarr

    loc = locate_for_write(out)
    group = zarr.open_group(str(loc.target), path=loc.key or "", mode="r+")
    if NETMAPS in group:
        del group[NETMAPS]


def done_array(out: Any, counts: Sequence[int], *, unit: str = "blocks") -> Any:
    """The per-block completion markers (``uint8``, one chunk per block) of the maps node,
    created if missing (see :mod:`volseg.infer.run_blocks`).

    ``unit`` names what a marker stands for: ``blocks`` (output blocks of a Dask run) or
    ``windows`` (blocks of whole windows of an in-process run); markers of one cannot resume
    the other.
    """
    markers = done_records(out).create(counts, dtype="uint8")
    recorded = markers.attrs.get("unit")
    if recorded is None:
        markers.attrs["unit"] = recorded = unit
    if recorded != unit:
        started = "a blockwise (Dask) run" if recorded == "blocks" else "an in-process run"
        raise VolsegError(
            f"{out} was started by {started}; resume it the same way (with or without "
            "--cluster/--scheduler) or use --overwrite."
        )
    return markers


def block_counts(shape: Sequence[int], block_shape: Sequence[int]) -> Triple:
    return BlockGrid.make(shape, block_shape).grid_shape
