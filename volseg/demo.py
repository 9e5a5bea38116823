"""``volseg demo``: the whole job on embedded data, end to end, in minutes on a laptop CPU.

Data: the whole Lucchi++ training volume at 10 nm (or the 5 nm crop) from ``--data DIR`` or,
in a checkout, from ``../shared/data`` when it is there (``tutorials/lucchi-mito.yaml``), else
synthetic vesicles made on the spot (``tutorials/hydra-lv.yaml``). The demo trains briefly,
predicts the held-out region, sweeps decoder thresholds on the first half (in z) of that region,
decodes and scores the second half (never seen by training or by the sweep), and writes
``report.md`` with figures.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import atomic_write_text
from volseg.errors import VolsegError
from volseg.resources import checkout_root, tutorial

log = logging.getLogger(__name__)
#: The Lucchi++ files the demo trains on, relative to a data folder (``--data DIR``): the whole
#: training volume at 10 nm (the tutorial's data), else the 5 nm crop with its own overrides.
LUCCHI = Path("lucchi_pp_train_10nm") / "volume.h5"
LUCCHI_CROP = Path("lucchi_pp_crops") / "train_crop.h5"
#: What the 5 nm crop needs beside its paths: its voxel size (not in the file), a held-out
#: z-range of its own, and the minimum instance size on its grid (1000 voxels at 5 nm).
CROP_OVERRIDES = (
    "data.voxel_size=[5,5,5]",
    "data.val_region=[132,165]",
    "test.evaluation.min_instance_size=1000",
)


def _found(folder: Path) -> Path | None:
    return next((folder / f for f in (LUCCHI, LUCCHI_CROP) if (folder / f).is_file()), None)


def default_data_dir() -> Path | None:
    """``<checkout>/../shared/data`` when volseg runs from a checkout that has it, else None."""
    root = checkout_root()
    shared = None if root is None else root.parent / "shared" / "data"
    return shared if shared is not None and _found(shared) is not None else None


def lucchi_file(data: str | Path | None) -> Path | None:
    """The Lucchi++ volume inside ``data`` (an error if ``data`` has neither file), or from the
    checkout's shared data when ``data`` is None; None means the synthetic fallback."""
    if data is None:
        found = default_data_dir()
        return None if found is None else _found(found)
    path = _found(Path(data).expanduser().resolve())
    if path is None:
        raise VolsegError(
            f"--data {data} holds neither {LUCCHI.as_posix()} (the whole Lucchi++ training "
            f"volume) nor {LUCCHI_CROP.as_posix()} (the crop)."
        )
    return path


@dataclass
class Plan:
    """Which tutorial, which overrides, and how to read the held-out range."""

    name: str
    config: Path
    overrides: list[str]
    channels: tuple[int | None, int | None, int | None]
    space: dict[str, list[Any]]
    steps_per_epoch: int  # data.iter_num_per_epoch / batch size of the overrides


def plan_for(out: Path, *, seed: int, data: str | Path | None = None) -> Plan:
    common = [f"system.seed={seed}", "monitor.early_stopping.enabled=false"]
    lucchi = lucchi_file(data)
    if lucchi is not None:
        keys = {"data.train_image": "raw", "data.train_label": "instances",
                "test.data.test_image": "raw", "test.data.test_label": "instances"}  # fmt: skip
        files = [f"{key}={lucchi}:{name}" for key, name in keys.items()]
        crop = lucchi.name == LUCCHI_CROP.name
        if crop:
            files += CROP_OVERRIDES
        return Plan(
            "Lucchi++ mitochondria (FIB-SEM, 5 nm crop)"
            if crop
            else "Lucchi++ mitochondria (FIB-SEM, whole training volume at 10 nm)",
            tutorial("lucchi-mito"),
            [
                *common,
                *files,
                "optimization.scheduler.warmup_epochs=1",
                "monitor.full_val_every_n_epochs=0",
                "monitor.checkpoint.monitor=val_loss",
                "monitor.checkpoint.mode=min",
                "data.iter_num_per_epoch=256",
            ],  # fmt: skip
            (0, None, None),
            {
                "binary_threshold.seed": [0.5, 0.7, 0.9],
                "binary_threshold.fg": [0.3, 0.4, 0.5],
                "min_instance_size": [0, 1000, 4000] if crop else [0, 125, 500],
            },  # fmt: skip
            steps_per_epoch=256 // 8,
        )
    from volseg.data.synth import vesicles
    from volseg.io import write_volume

    raw, gt, _ = vesicles(shape=(48, 192, 192), seed=seed)
    data = out / "data" / "vesicles.zarr"  # a subfolder: `volseg view out` shows the results
    write_volume(data, raw, voxel_size=(30, 8, 8), kind="image", overwrite=True)
    write_volume(data, gt, voxel_size=(30, 8, 8), kind="labels", key="labels/vesicles")
    return Plan(
        "synthetic vesicles (30x8x8 nm)",
        tutorial("hydra-lv"),
        [*common, f"data.train_image={data}", f"data.train_label={data}/labels/vesicles",
         "model.filters=[8,16,32,64]", "model.input_size=[16,64,64]",
         "monitor.full_val_every_n_epochs=0",
         "data.iter_num_per_epoch=32", "system.training.batch_size=2",
         "monitor.checkpoint.monitor=val_loss", "monitor.checkpoint.mode=min"],  # fmt: skip
        (0, 1, 2),
        {"binary_threshold.seed": [0.6, 0.8], "binary_threshold.fg": [0.3, 0.5],
         "distance_threshold.seed": [0.2, 0.4, 0.6], "distance_threshold.fg": [-0.5, 0.0]},
        steps_per_epoch=32 // 2,
    )  # fmt: skip


#: How many times the timed plan's epochs the demo may train while its budget lasts.
HEADROOM = 3


def sized_to_budget(plan: Plan, minutes: float) -> Any:
    """The plan's config trained to a budget of ``minutes`` (``optimization.max_time``, the whole
    fit). The step timed here plans the epochs; the schedule also follows the clock, so it ends
    at min_lr within the budget even when the machine slows down later.

    Five steps timed on a busy machine can say 0.7 steps/s where training then runs 1 or more:
    with the plan as a hard epoch cap, the demo under load stopped with a third of its budget
    unused (instance F1 0.63). The cap is therefore ``HEADROOM`` times the plan; the clock ends
    training, and the schedule follows whichever of steps and time runs out first."""
    from volseg.config import load
    from volseg.train.budget import measure_step_seconds, steps_in_budget

    step_s = measure_step_seconds(load(plan.config, plan.overrides))
    epochs = max(2, round(steps_in_budget(step_s, minutes) / plan.steps_per_epoch))
    log.info(
        f"   {1 / step_s:.1f} training steps/s here: {epochs} epochs of {plan.steps_per_epoch} "
        f"steps planned in {minutes:g} min (the clock decides: fewer if the steps slow down, "
        f"up to {HEADROOM * epochs} if they speed up)"
    )
    cap = HEADROOM * epochs
    budget = [f"optimization.max_epochs={cap}", f"optimization.max_time={60.0 * minutes}"]
    return load(plan.config, [*plan.overrides, *budget])


def run(
    out: str | Path, *, minutes: float = 5.0, seed: int = 0, data: str | Path | None = None
) -> dict[str, Any]:
    """Run the demo into ``out`` (training limited to ``minutes``); returns the metrics.

    ``data``: a folder holding ``lucchi_pp_crops/train_crop.h5``; None uses the checkout's
    ``../shared/data`` when it is there, else synthetic vesicles."""
    from volseg.data.split import Split
    from volseg.train import fit

    if data is not None:
        lucchi_file(data)  # a folder without the crop fails before anything is written
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    plan = plan_for(out, seed=seed, data=data)
    log.info(f"1. data: {plan.name}; config {plan.config.name}")
    cfg = sized_to_budget(plan, minutes)

    t = time.perf_counter()
    run_dir = fit(cfg, run_root=out / "runs", echo=log.info)
    timings["train"] = time.perf_counter() - t
    log.info(f"2. trained for {timings['train'] / 60:.1f} min -> {run_dir}")

    split = Split.from_json(run_dir / "split.json")
    region = split.val[0]
    t = time.perf_counter()
    image, gt, voxel_size = held_out(split, region)
    write_image_and_truth(out, image, gt, voxel_size)
    maps = predict_region(cfg, run_dir / "checkpoints" / "best.pt", image, voxel_size, out)
    timings["predict"] = time.perf_counter() - t
    box = " x ".join(f"{a}:{b}" for a, b in (region.z, region.y, region.x))
    log.info(f"3. predicted the held-out region (z x y x x) {box} -> {out / 'predictions.zarr'}")
    return finish(out, plan, cfg, run_dir, maps, gt, image, voxel_size, timings)


def held_out(split, region) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Raw image and ground-truth instances of a validation region (data grid)."""
    import cc3d

    from volseg.io import open_volume

    vol = split.volumes[region.volume]
    image = open_volume(vol["image"], voxel_size=vol.get("voxel_size"))
    labels = open_volume(vol["label"])
    raw = image[region.slices]
    # instances of the region: connected components, as the source defines them
    gt = cc3d.connected_components(labels[region.slices] > 0, connectivity=26)
    if np.unique(labels[region.slices]).size > 2:  # real instance ids: keep them
        gt = labels[region.slices].astype(np.uint32)
    return raw, gt, image.voxel_size


#: The demo's outputs that ``volseg view OUT`` opens (the maps come from ``volseg.infer.predict``).
IMAGE_STORE, MAPS_STORE, LABELS_STORE = "image.zarr", "predictions.zarr", "labels.zarr"


def write_image_and_truth(out: Path, image: np.ndarray, gt: np.ndarray, voxel_size) -> Path:
    """``out/image.zarr``: the held-out image, with its ground-truth instances as the label
    image ``gt``, on the grid of the maps and the segmentation, so that ``volseg view out``
    shows the segmentation on the EM image and marks its errors."""
    from volseg.io import write_volume

    store = out / IMAGE_STORE
    write_volume(store, image, voxel_size=voxel_size, kind="image", overwrite=True)
    write_volume(store, gt, voxel_size=voxel_size, kind="labels", key="labels/gt", overwrite=True)
    return store


def write_segmentation(out: Path, seg: np.ndarray, voxel_size) -> Path:
    """``out/labels.zarr``: the decoded instances."""
    from volseg.io import write_volume

    store = out / LABELS_STORE
    write_volume(store, seg, voxel_size=voxel_size, kind="labels", overwrite=True)
    return store


def predict_region(cfg, checkpoint: Path, image: np.ndarray, voxel_size, out: Path) -> np.ndarray:
    from volseg.infer import predict
    from volseg.io import Volume
    from volseg.maps import dequantize

    pred = predict(cfg, checkpoint, Volume(image, voxel_size=voxel_size), out / MAPS_STORE,
                   overwrite=True)  # fmt: skip
    return dequantize(np.asarray(pred.data[...]), pred.attrs)


def finish(out, plan, cfg, run_dir, maps, gt, image, voxel_size, timings) -> dict[str, Any]:
    """Sweep on the first half of the held-out range, decode, score the second half, report."""
    from volseg.decode.registry import decode
    from volseg.metrics.evaluate import evaluate_arrays
    from volseg.report import overlay_figure, write_report
    from volseg.tune import heatmap, sweep, write_csv, write_thresholds

    ev = cfg.test.evaluation
    min_size, ious = int(ev.min_instance_size), tuple(float(t) for t in ev.iou_thresholds)
    half = gt.shape[0] // 2
    base: dict[str, Any] = {"channels": plan.channels}
    if plan.channels[1] is None:
        base.update(contour_threshold=None, distance_threshold=None, min_seed_size=0)
    t = time.perf_counter()
    result = sweep(maps[:, :half], gt[:half], plan.space, base_params=base, min_size=min_size)
    write_csv(result, out / "sweep.csv")
    heatmap(result, out / "sweep_heatmap.png", key=result.metric)
    tuned = write_thresholds(
        run_dir / "checkpoints", decoder=result.decoder, params=result.best_params,
        scores={k: v for k, v in result.best_row.items() if k not in result.names},
        metric=result.metric, metric_reason=result.metric_reason,
        settings_tried=len(result.rows),
        maps={"path": str(out / "predictions.zarr"), "channels": int(maps.shape[0]),
              "shape": list(maps.shape[1:]), "z_range_tuned": [0, half],
              "voxel_size": [float(v) for v in voxel_size]},
        sources={"run": str(run_dir)},
    )  # fmt: skip
    timings["sweep"] = time.perf_counter() - t
    w = result.work
    log.info(
        f"4. swept {w['settings']} decoder settings on z < {half} of the held-out range in "
        f"{result.seconds:.1f} s ({w['skipped']} skipped as out of the maps' range), metric "
        f"{result.metric}: {result.metric_reason} -> {tuned}"
    )
    t = time.perf_counter()
    params = dict(result.best_params)
    seg = decode(maps, result.decoder, params)
    write_segmentation(out, seg, voxel_size)
    timings["decode"] = time.perf_counter() - t
    ev_seg, ev_gt, ev_maps = seg[half:], gt[half:], maps[:, half:]
    scores = evaluate_arrays(ev_seg, ev_gt, fg_map=ev_maps[0], min_size=min_size, thresholds=ious)
    metrics: dict[str, Any] = {
        "data": plan.name,
        "evaluated_on": f"second half (in z) of the held-out region ({ev_gt.shape[0]} slices)",
        **scores,
        "sweep": {"metric": result.metric, "reason": result.metric_reason,
                  "settings": w["settings"], "skipped": w["skipped"], "thresholds": str(tuned)},
        "best_params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        "seconds": timings,
    }  # fmt: skip
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2, default=float) + "\n")
    m50 = scores["matching"]["thresholds"]["0.5"]
    map50 = next(r for r in scores["map_foreground"]["per_threshold"] if r["threshold"] == 0.5)
    log.info(
        f"5. decoded and scored the last {ev_gt.shape[0]} held-out slices: instance F1@0.5 "
        f"{m50['f1']:.3f} ({m50['tp']} TP, {m50['fp']} FP, {m50['fn']} FN), segmentation "
        f"foreground IoU {scores['segmentation_foreground']['iou']:.4f} (map at 0.5: "
        f"{map50['iou_hard']:.4f}), {scores['instances']['segmentation']} instances segmented, "
        f"{scores['instances']['ground_truth']} in the ground truth"
    )
    overlay_figure(out / "slices.png", image[half:], ev_gt, ev_maps, ev_seg)
    for png in sorted((run_dir / "figures").glob("*curve*.png")):
        shutil.copyfile(png, out / png.name)
    report = write_report(out, metrics, result, run_dir)
    log.info(f"report: {report}")
    log.info(f"look at it: volseg view {out}")
    return metrics
