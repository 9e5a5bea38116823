"""One trained model scored on the fixed validation regions against the original ground truth.

The labelled volumes are predicted (with the config's TTA) and decoded with the run's decoder
settings (:func:`volseg.infer.segment.decoder_settings`); each validation region of the
labelled split is scored against the labelled volume's ground truth, never against
pseudo-labels (pseudo-labelled volumes have no validation region).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from volseg.data.split import Split
from volseg.train import run_dir as rd

METRICS = ("adapted_rand", "match_instances", "semantic")


def checkpoint(run_dir: Path) -> Path:
    """The run's ``best.pt`` (chosen on the labelled validation region), else ``last.pt``."""
    best = run_dir / rd.CHECKPOINTS / rd.BEST
    return best if best.is_file() else rd.last_checkpoint(run_dir)


def float_maps(cfg: Any, ckpt: Path, image: str, out: Path) -> np.ndarray:
    """Predict ``image`` into ``out`` (TTA from ``inference.test_time_augmentation``) and
    return the maps as float32 ``(c, z, y, x)``."""
    from volseg.infer.predict import predict
    from volseg.maps import dequantize

    pred = predict(cfg, ckpt, image, out, say=lambda _text: None)
    return dequantize(np.asarray(pred.data[...]), pred.attrs, source=str(out))


def score(
    cfg: Any, run_dir: Path, split: Split, folder: Path
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(metrics, views)``: the scores of each validation region (``metrics["regions"]``) and,
    per region, the arrays a figure shows (``image``, ``gt``, ``seg``, ``maps``)."""
    from volseg.decode.registry import decode
    from volseg.infer.segment import decoder_settings
    from volseg.io import open_volume
    from volseg.metrics.evaluate import evaluate_arrays

    ckpt = checkpoint(run_dir)
    ev = cfg.test.evaluation
    thresholds = tuple(float(t) for t in ev.iou_thresholds)
    regions, views, maps_of = [], [], {}
    for region in split.val:
        vol = split.volumes[region.volume]
        if region.volume not in maps_of:
            out = folder / f"labelled-{region.volume}-maps.zarr"
            maps_of[region.volume] = float_maps(cfg, ckpt, vol["image"], out)
        maps = maps_of[region.volume][(slice(None), *region.slices)]
        name, params, source = decoder_settings(cfg, ckpt, voxel_size=vol["voxel_size"])
        seg = decode(maps, name, params)
        with open_volume(vol["label"], ndim=3) as gt_v:
            gt = np.asarray(gt_v.data[region.slices])
        mask = None
        if vol.get("mask"):  # the labelled mask (or the all-valid one self-training adds)
            with open_volume(vol["mask"], ndim=3) as m:
                mask = np.asarray(m.data[region.slices]) != 0
        table = evaluate_arrays(
            seg, gt, mask=mask, fg_map=maps[0], metrics=METRICS,
            min_size=int(ev.min_instance_size), thresholds=thresholds,
        )  # fmt: skip
        regions.append({"region": region.to_dict(), "image": vol["image"], "ground_truth":
                        vol["label"], "decoder": {"name": name, "params": params,
                        "source": source}, "scores": table})  # fmt: skip
        with open_volume(vol["image"], ndim=3) as img:
            image = np.asarray(img.data[region.slices])
        views.append({"image": image, "gt": gt, "seg": seg, "maps": maps})
    metrics = {"checkpoint": str(ckpt), "scored_against": "original ground truth",
               "regions": regions}  # fmt: skip
    return metrics, views


def summary_scores(metrics: dict[str, Any]) -> dict[str, float]:
    """Mean over the validation regions of foreground IoU, F1 at IoU 0.5 and ARE (with
    background): the summary table's columns."""
    rows = [r["scores"] for r in metrics["regions"]]

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else float("nan")

    f1 = [s["matching"]["thresholds"]["0.5"]["f1"] for s in rows if "0.5" in s.get("matching",
          {}).get("thresholds", {})]  # fmt: skip
    return {
        "fg_iou": mean([s["segmentation_foreground"]["iou"] for s in rows]),
        "f1@0.5": mean(f1),
        "are_with_bg": mean([s["adapted_rand_with_bg"]["are"] for s in rows]),
    }
