"""``segment``: predict, decode blockwise and evaluate into one OME-Zarr.

The output store holds the image at its root (a copy of level 0 plus a pyramid, for viewing),
the maps in ``maps`` and the instances in ``labels/segmentation``::

    OUT.zarr/            image (OME-Zarr multiscales; a 3D image only)
    OUT.zarr/maps        (c, z, y, x) maps from volseg.infer.predict
    OUT.zarr/labels/segmentation
    OUT.metrics.json     scores against --gt, beside the store

The root's ``attrs["volseg"]["inputs"]`` records the paths of the image, ground truth and
mask, so that ``volseg view OUT.zarr`` shows them beside the outputs.

Each step skips work that a previous run finished (the image and finished maps from the same
checkpoint and image are kept; blockwise decoding resumes its finished blocks), so an
interrupted run is started again with the same command. ``overwrite`` starts from nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError
from volseg.io import is_complete, open_volume
from volseg.io.guard import place
from volseg.io.paths import locate_for_write
from volseg.io.zarr_layout import node_type
from volseg.lock import locks_output

MAPS_KEY = "maps"
LABELS_KEY = "labels/segmentation"


def decoder_settings(
    cfg: Any,
    checkpoint: str | os.PathLike,
    *,
    voxel_size: Any = None,
    say: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, Any], str]:
    """``(decoder, params, source)`` by the one settings policy (:func:`volseg.tune.resolve`):
    the run's ``thresholds.json`` beside the checkpoint, else the config's ``test.decoding[0]``;
    checked against the model's output channels before anything is predicted. With the maps'
    ``voxel_size``, sizes tuned on another grid keep their volume (:func:`volseg.tune.settings.
    on_grid`), which ``say`` reports."""
    from volseg.tune.settings import on_grid, resolve

    chosen = resolve(
        cfg=cfg, checkpoint=str(checkpoint), n_channels=int(cfg.model.out_channels),
        what=f"the model of {checkpoint} (model.out_channels)",
    )  # fmt: skip
    chosen, note = on_grid(chosen, voxel_size)
    if note and say is not None:
        say(note)
    return chosen.name, chosen.params, chosen.source


def metrics_path(out: str | os.PathLike) -> Path:
    """Where the scores go: ``OUT.metrics.json`` beside ``OUT.zarr``."""
    root = locate_for_write(out).target
    return root.with_name(root.name.removesuffix(".zarr") + ".metrics.json")


def _root(out: str | os.PathLike, overwrite: bool) -> Path:
    loc = locate_for_write(out)
    if loc.fmt != "zarr" or loc.key:
        raise VolsegError(f"--out must be a zarr store such as seg.zarr, got {out}.")
    root = Path(loc.target)
    if root.exists() and node_type(root) != "group":
        raise VolsegError(f"{root} exists and is not a zarr group; choose another --out.")
    if root.exists() and overwrite:
        from volseg.io.guard import check_replaceable

        check_replaceable(root)
        shutil.rmtree(root)
    elif is_complete(root, LABELS_KEY):
        raise VolsegError(
            f"{root} already holds a finished segmentation; pass --overwrite to replace it."
        )
    return root


def _check_gt(gt: str | None, mask: str | None, image: Any) -> None:
    from volseg.io.voxels import check_same_voxel_size

    shape = image.spatial_shape
    for path, role in ((gt, "ground truth"), (mask, "mask")):
        if path is None:
            continue
        with open_volume(path) as volume:
            check_same_voxel_size(image, volume, names=("image", role))
            if tuple(volume.shape) != tuple(shape):
                raise VolsegError(
                    f"{role} {path} has shape {volume.shape} but the image is {tuple(shape)}."
                )
    if mask is not None and gt is None:
        raise VolsegError("--mask restricts the evaluation: give --gt too.")


def _write_image(root: Path, image: Any, say: Callable[[str], None]) -> None:
    from volseg.io import write_volume
    from volseg.io.guard import check_replaceable

    if is_complete(root):
        say(f"image: kept {root}")
        return
    if root.exists() and any((root / key).exists() for key in (MAPS_KEY, "labels")):
        say("image: not copied (the store was made without it)")
        return
    if image.ndim != 3:
        say(f"image: not copied ({image.ndim}D; only (z, y, x) images go to the store root)")
        return
    if root.exists():  # a copy that was interrupted: start it again
        check_replaceable(root)
        shutil.rmtree(root)
    write_volume(root, image, kind="image")
    say(f"image: copied to {root}")


def _predict(cfg: Any, checkpoint: Any, image: Any, maps_out: str, *, client: Any,
             block_shape: Any, say: Callable[[str], None]) -> Any:  # fmt: skip
    from volseg.infer.predict import predict

    if is_complete(maps_out):
        maps = open_volume(maps_out)
        recorded = maps.attrs.get("prediction") or {}
        wanted = {"checkpoint": str(Path(checkpoint).resolve()), "image": str(image)}
        for key, value in wanted.items():
            if place(recorded.get(key)) != place(value):  # by meaning, not by spelling
                raise VolsegError(
                    f"{maps_out} holds maps of {key} {recorded.get(key)}, not {value}; pass "
                    "--overwrite to predict again."
                )
        from volseg.infer.plan import input_fingerprints

        for key, value in input_fingerprints(checkpoint, str(image)).items():
            if key in recorded and recorded[key] != value:
                raise VolsegError(
                    f"{maps_out} holds maps of an earlier version of the "
                    f"{key.removesuffix('_fingerprint')} (its files changed since); use "
                    "--overwrite to predict again."
                )
        say(f"maps: kept {maps_out}")
        return maps
    maps = predict(
        cfg, checkpoint, image, maps_out, client=client, block_shape=block_shape, say=say
    )
    say(f"maps: {maps.dtype} {maps.shape} -> {maps_out}")
    return maps


@locks_output("out")
def segment(
    cfg: Any,
    checkpoint: str | os.PathLike,
    image: str | os.PathLike,
    out: str | os.PathLike,
    *,
    gt: str | None = None,
    mask: str | None = None,
    client: Any = None,
    block_shape: Sequence[int] | None = None,
    halo: int | Sequence[int] | None = None,
    overwrite: bool = False,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Predict maps, decode them blockwise and (with ``gt``) score them, into one OME-Zarr.

    Args:
        cfg: resolved config (``volseg.config.load``) or the path of a YAML file.
        checkpoint: trained checkpoint; a ``thresholds.json`` beside it sets the decoder.
        image: raw volume path (``vol.h5:raw``, ``vol.zarr``, ``vol.tif``).
        out: the OME-Zarr store to write (``seg.zarr``).
        gt: ground-truth instance labels of the same shape, to score against.
        mask: only voxels where it is non-zero are scored.
        client: a ``distributed.Client``; None predicts in this process and decodes on threads.
        block_shape: blocks for prediction and decoding (default ``inference.block_shape``).
        halo: decoding context per side (default: ``inference.halo``, else
            ``volseg.geometry.default_halo``).
        overwrite: delete ``out`` first and start from nothing.
        say: where progress lines go.

    Returns:
        Paths, decoder settings, the number of instances and the scores (``None`` without gt).

    Raises:
        VolsegError: bad paths, shapes, config or checkpoint; a finished ``out`` without
            ``overwrite``; maps in ``out`` from another checkpoint; another process
            writing ``out``.
    """
    from volseg.config import load
    from volseg.infer.blockwise_decode import (
        blockwise_decode,
        check_decoder,
        check_grid,
        reuse_line,
    )
    from volseg.infer.predict import open_image
    from volseg.io.guard import refuse_overlap

    refuse_overlap(
        out, {"image": image, "ground truth": gt, "mask": mask, "checkpoint": checkpoint}
    )

    cfg = load(cfg) if isinstance(cfg, str | os.PathLike) else cfg
    volume, _ = open_image(cfg, str(image))
    name, params, source = decoder_settings(cfg, checkpoint, voxel_size=volume.voxel_size, say=say)
    root = _root(out, overwrite)
    _check_gt(gt, mask, volume)
    blocks = tuple(int(b) for b in (block_shape or cfg.inference.block_shape))
    if halo is None and cfg.inference.halo is not None:
        halo = tuple(int(h) for h in cfg.inference.halo)
    # everything the decode will refuse is refused before the (long) prediction
    check_grid(volume.spatial_shape, volume.voxel_size, blocks, halo, decoder=name, params=params)
    check_decoder(name, params, int(cfg.model.out_channels), f"the model of {checkpoint}")
    _write_image(root, volume, say)
    maps_out = f"{root}:{MAPS_KEY}"
    _predict(cfg, checkpoint, str(image), maps_out, client=client, block_shape=blocks, say=say)
    say(f"decoder {name} with settings from {source}: {params}")
    labels = blockwise_decode(
        maps_out, f"{root}:{LABELS_KEY}", decoder=name, params=params, block_shape=blocks,
        halo=halo, client=client,
    )  # fmt: skip
    record_inputs(root, image=image, gt=gt, mask=mask)
    n = int(labels.attrs["blockwise_result"]["instances"])
    say(reuse_line(labels.attrs["blockwise_result"]))
    say(f"labels: {n} instances -> {root}:{LABELS_KEY}")
    summary: dict[str, Any] = {
        "out": str(root), "maps": maps_out, "labels": f"{root}:{LABELS_KEY}", "decoder": name,
        "params": params, "decoder_source": source, "instances": n, "metrics": None,
    }  # fmt: skip
    if gt is not None:
        summary["metrics"] = evaluate(cfg, summary["labels"], gt, mask=mask)
        summary["metrics_path"] = str(write_metrics(summary["metrics"], metrics_path(root)))
    return summary


INPUTS_ATTR = "inputs"


def record_inputs(root: Path, **paths: str | os.PathLike | None) -> None:
    """Record where the inputs are (``image``, ``gt``, ``mask``: absolute paths, or None)
    in ``attrs["volseg"]["inputs"]`` of the store's root, so that a viewer opens them with
    the outputs (``volseg view OUT.zarr``)."""
    from volseg.io.write_zarr import update_volseg_attrs

    def absolute(value: str | os.PathLike | None) -> str | None:
        if value is None:
            return None
        text = os.fspath(value)
        return text if "://" in text else os.path.abspath(text)

    update_volseg_attrs(root, "", {INPUTS_ATTR: {k: absolute(v) for k, v in paths.items()}})


def evaluate(cfg: Any, labels: str, gt: str, *, mask: str | None = None) -> dict[str, Any]:
    """The scores ``test.evaluation`` asks for, of ``labels`` against ``gt`` (one table)."""
    from volseg.metrics.evaluate import evaluate_paths

    ev = cfg.test.evaluation
    return evaluate_paths(
        labels, gt, mask=mask, metrics=tuple(str(m) for m in ev.metrics),
        min_size=int(ev.min_instance_size), thresholds=tuple(float(t) for t in ev.iou_thresholds),
    )  # fmt: skip


def write_metrics(result: dict[str, Any], path: Path) -> Path:
    """Write the scores as JSON (atomically)."""
    from volseg.atomic import atomic_write_text

    text = json.dumps(result, indent=2, default=lambda v: v.item() if hasattr(v, "item") else v)
    return atomic_write_text(path, text + "\n")
