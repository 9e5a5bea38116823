"""``volseg decode --sweep thresholds``: sweep a decoder on maps in files, write the results.

Writes ``sweep.csv`` (every setting, skipped ones with the reason), a heat-map PNG of the
objective, and one ``thresholds.json`` where :func:`volseg.tune.settings.thresholds_dir` says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from volseg.errors import VolsegError
from volseg.tune.settings import config_settings, maps_folder, thresholds_dir, write_thresholds
from volseg.tune.sweep import SweepResult, sweep

OPTION_KEYS = ("method", "num_samples", "metric", "workers", "decoder")

#: Spaces swept when neither ``--space`` nor the config's ``tune.parameters`` gives one.
DEFAULT_SPACES: dict[str, dict[str, list[Any]]] = {
    # 96 settings around the usual operating point; 48 distinct floods. Blurry maps push the
    # distance at instance rims below 0, hence the negative foreground distance thresholds.
    "contour_distance": {
        "binary_threshold.seed": [0.7, 0.8, 0.9],
        "binary_threshold.fg": [0.5, 0.7],
        "distance_threshold.seed": [0.2, 0.35, 0.5, 0.65],
        "distance_threshold.fg": [-0.5, 0.0],
        "min_instance_size": [0, 50],
    },
    "cc": {"threshold": [0.3, 0.4, 0.5, 0.6, 0.7], "min_instance_size": [0, 100, 1000]},
    "watershed": {"threshold": [0.3, 0.5, 0.7], "mask_threshold": [0.3, 0.5, 0.7]},
    "affinity_cc": {"threshold": [0.5, 0.7, 0.9], "min_instance_size": [0, 100, 1000]},
    "agglomerate": {
        "threshold": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
        "merge_function": ["mean", "quantile"],
        "min_instance_size": [0, 100, 1000],
    },
    "mutex_watershed": {
        "bias": [0.3, 0.5, 0.7],
        "long_range_bias": [0.5, 0.7, 0.9],
        "min_instance_size": [0, 100, 1000],
    },
}


@dataclass
class SweepFiles:
    """A finished sweep and the files it wrote."""

    result: SweepResult
    csv: Path
    heatmap: Path
    thresholds: Path


def load_space(space: Path | None, cfg: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Space and options (method, num_samples, metric, workers, decoder) from ``--space`` or
    the config's ``tune`` section; ``(None, options)`` when neither gives parameters."""
    if space is not None:
        try:
            doc = yaml.safe_load(Path(space).read_text())
        except FileNotFoundError:
            raise VolsegError(f"space file {space} does not exist.") from None
        except yaml.YAMLError as exc:
            raise VolsegError(f"space file {space} is not valid YAML ({exc}).") from None
        if not isinstance(doc, dict):
            raise VolsegError(f"space file {space} must be a mapping of parameter -> values.")
        doc = doc.get("tune", doc)
        params = doc.get("parameters", {k: v for k, v in doc.items() if k not in OPTION_KEYS})
        return dict(params), {k: doc[k] for k in OPTION_KEYS if doc.get(k) is not None}
    if cfg is not None:
        from omegaconf import OmegaConf

        tune = OmegaConf.to_container(cfg.tune, resolve=True)
        options = {k: tune[k] for k in OPTION_KEYS if tune.get(k) is not None}
        if tune.get("parameters"):
            return dict(tune["parameters"]), options
        options.pop("decoder", None)  # the schema default; the test.decoding entry decides
        return None, options
    return None, {}


def _arrays(pred: str, gt: str, mask: str | None) -> tuple[np.ndarray, Any, np.ndarray, Any]:
    from volseg.decode.files import load_labels, load_maps
    from volseg.io.voxels import check_same_voxel_size

    maps, volume = load_maps(pred)
    gt_vol = load_labels(gt, name="ground truth")
    if gt_vol.shape != volume.shape[1:]:
        raise VolsegError(
            f"ground truth {gt} has shape {gt_vol.shape} but the maps {pred} are "
            f"{volume.shape[1:]}; they must be equal."
        )
    check_same_voxel_size(volume, gt_vol, ("the maps", "ground truth"))
    gt_arr = gt_vol.numpy()
    if gt_arr.dtype.kind not in "uib":
        raise VolsegError(f"ground truth {gt} must hold integer labels, got {gt_arr.dtype}.")
    if not gt_arr.any():
        raise VolsegError(
            f"ground truth {gt} holds no labelled voxels; a sweep needs objects to score against."
        )
    mask_arr = None
    if mask is not None:
        mask_vol = load_labels(mask, name="mask")
        if mask_vol.shape != gt_arr.shape:
            raise VolsegError(f"mask {mask} has shape {mask_vol.shape}, expected {gt_arr.shape}.")
        check_same_voxel_size(gt_vol, mask_vol, ("ground truth", "mask"))
        mask_arr = mask_vol.numpy().astype(bool)
        if not gt_arr[mask_arr].any():
            raise VolsegError(
                f"ground truth {gt} holds no labelled voxels inside the mask {mask}; a sweep "
                "needs objects to score against."
            )
    return maps, volume, gt_arr, mask_arr


def run_sweep(
    pred: str,
    *,
    gt: str,
    mask: str | None = None,
    cfg: Any = None,
    space: Path | None = None,
    explicit: Mapping[str, Any] | None = None,
    decoder: str | None = None,
    metric: str | None = None,
    workers: int | None = None,
    out_dir: Path | None = None,
    say: Callable[[str], None] = print,
) -> SweepFiles:
    """Sweep decoder settings of ``pred`` against ``gt`` and write the results.

    The decoder is ``decoder``, else the space's or config's ``tune.decoder`` when it gives
    parameters, else the config's first ``test.decoding`` entry, else contour_distance; options
    not swept come from that entry (when it names the same decoder) and ``explicit``.
    """
    from volseg.decode.affinity_settings import complete_for

    params, options = load_space(space, cfg)
    from_cfg = config_settings(cfg) if cfg is not None else None
    name = decoder or options.pop("decoder", None) or (from_cfg.name if from_cfg else None)
    name = name or "contour_distance"
    options.pop("decoder", None)
    if params is None:
        if name not in DEFAULT_SPACES:
            raise VolsegError(f"no parameter space for decoder {name}: give --space FILE.")
        params = DEFAULT_SPACES[name]
    base = dict(from_cfg.params) if from_cfg and from_cfg.name == name else {}
    base.update(explicit or {})
    base = complete_for(name, base, maps_path=pred, what=f"the maps {pred}")
    metric = metric or options.pop("metric", None)
    options.pop("metric", None)
    workers = workers or options.pop("workers", None)
    options.pop("workers", None)
    min_size = int(cfg.test.evaluation.min_instance_size) if cfg is not None else 0
    maps, volume, gt_arr, mask_arr = _arrays(pred, gt, mask)
    result = sweep(maps, gt_arr, params, decoder=name, mask=mask_arr, base_params=base,
                   metric=metric, min_size=min_size, workers=workers, **options)  # fmt: skip
    say(f"metric: {result.metric} ({result.metric_reason})")
    target = Path(out_dir) if out_dir else maps_folder(pred)
    target.mkdir(parents=True, exist_ok=True)
    from volseg.tune.report import heatmap, write_csv

    csv_path = write_csv(result, target / "sweep.csv")
    png = heatmap(result, target / "sweep_heatmap.png", key=result.metric)
    maps_info = {"path": pred, "channels": int(maps.shape[0]), "shape": list(maps.shape[1:]),
                 "voxel_size": [float(v) for v in volume.voxel_size]}  # fmt: skip
    tuned = write_thresholds(
        thresholds_dir(pred, volume.attrs), decoder=name, params=result.best_params,
        scores={k: v for k, v in result.best_row.items() if k not in result.names},
        metric=result.metric, metric_reason=result.metric_reason,
        settings_tried=len(result.rows), maps=maps_info,
        sources={"predictions": pred, "ground_truth": gt, "mask": mask or ""},
    )  # fmt: skip
    return SweepFiles(result, csv_path, png, tuned)
