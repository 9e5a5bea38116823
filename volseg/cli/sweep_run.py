"""The work behind ``volseg decode``: decode-and-write, and sweep-and-report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rich.console import Console
from rich.table import Table

from volseg.errors import VolsegError

console = Console(soft_wrap=True)

# 96 settings around the usual operating point; 48 distinct floods. Blurry maps push the
# distance at instance rims below 0, hence the negative foreground distance thresholds.
DEFAULT_SPACE: dict[str, list[Any]] = {
    "binary_threshold.seed": [0.7, 0.8, 0.9],
    "binary_threshold.fg": [0.5, 0.7],
    "distance_threshold.seed": [0.2, 0.35, 0.5, 0.65],
    "distance_threshold.fg": [-0.5, 0.0],
    "min_instance_size": [0, 50],
}


def write_labels(out: str, labels: np.ndarray, volume, *, overwrite: bool, attrs: dict) -> None:
    from volseg.io import write_volume

    write_volume(
        out,
        labels,
        voxel_size=volume.voxel_size,
        offset=volume.offset,
        kind="labels",
        attrs=attrs,
        overwrite=overwrite,
    )


def run_decode(
    pred: str, *, out: str, name: str, params: dict[str, Any], source: str, overwrite: bool
) -> np.ndarray:
    """Decode ``pred`` with decoder ``name`` and write the labels to ``out``."""
    from volseg.cli.decode_cmd import load_maps
    from volseg.decode.registry import decode

    console.print(f"decoder {name} with settings from {source}: {params}")
    maps, volume = load_maps(pred)
    start = time.perf_counter()
    labels = decode(maps, name, params)
    seconds = time.perf_counter() - start
    n = int(labels.max()) if labels.size else 0
    attrs = {"volseg_decoder": {"name": name, "params": _plain(params), "source": source}}
    write_labels(out, labels, volume, overwrite=overwrite, attrs=attrs)
    rate = labels.size / max(seconds, 1e-9) / 1e6
    console.print(f"wrote {n} instances to {out} ({seconds:.2f} s, {rate:.1f} M voxels/s)")
    return labels


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def load_space(space: Path | None, cfg) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parameter space and sweep options from --space, the config's tune section, or defaults."""
    options: dict[str, Any] = {}
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
        params = doc.get("parameters", doc)
        options = {
            k: v for k, v in doc.items() if k in ("method", "num_samples", "metric", "workers")
        }
        return dict(params), options
    if cfg is not None and "tune" in cfg:
        from omegaconf import OmegaConf

        tune = OmegaConf.to_container(cfg.tune, resolve=True)
        if tune.get("parameters"):
            options = {
                k: tune[k] for k in ("method", "num_samples", "metric", "workers") if tune.get(k)
            }
            return dict(tune["parameters"]), options
    return dict(DEFAULT_SPACE), options


def run_sweep(
    pred: str,
    *,
    gt: str,
    mask: str | None,
    config: Path | None,
    overrides: list[str],
    space: Path | None,
    workers: int | None,
    out_dir: Path | None,
    explicit: dict[str, Any],
    decoder: str | None,
    out: str | None,
    overwrite: bool,
) -> None:
    """Sweep decoder settings on ``pred`` against ``gt``; write sweep.csv, PNG, thresholds.json."""
    from volseg.cli.decode_cmd import config_decoding, load_labels, load_maps
    from volseg.tune import heatmap, sweep, write_csv, write_thresholds

    if decoder not in (None, "contour_distance"):
        raise VolsegError(
            f"--sweep thresholds tunes the contour_distance decoder, not {decoder!r}."
        )
    cfg_name, base, cfg = config_decoding(config, overrides)
    if cfg_name not in (None, "contour_distance"):
        base = {}
    base.update(explicit)
    channels = base.pop("channels", (0, 1, 2))
    params, options = load_space(space, cfg)
    workers = workers or options.pop("workers", None)
    options.pop("workers", None)
    maps, volume = load_maps(pred)
    gt_vol = load_labels(gt, name="ground truth")
    if gt_vol.shape != volume.shape[1:]:
        raise VolsegError(
            f"ground truth {gt} has shape {gt_vol.shape} but the maps are {volume.shape[1:]}."
        )
    gt_arr = gt_vol.numpy()
    if not np.issubdtype(gt_arr.dtype, np.integer) and gt_arr.dtype != bool:
        raise VolsegError(f"ground truth {gt} must hold integer labels, got {gt_arr.dtype}.")
    mask_arr = None
    if mask is not None:
        mask_arr = load_labels(mask, name="mask").numpy().astype(bool)
        if mask_arr.shape != gt_arr.shape:
            raise VolsegError(f"mask {mask} has shape {mask_arr.shape}, expected {gt_arr.shape}.")
    result = sweep(
        maps, gt_arr, params, mask=mask_arr, base_params=base, channels=channels,
        workers=workers, **options,
    )  # fmt: skip
    target = Path(out_dir) if out_dir else Path(pred.split(":")[0]).resolve().parent
    target.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(result, target / "sweep.csv")
    png_path = heatmap(result, target / "sweep_are.png")
    dirs = [Path(pred.split(":")[0]).resolve().parent]
    checkpoint = volume.attrs.get("checkpoint")
    if checkpoint:
        dirs.append(Path(checkpoint).resolve().parent)
    written = write_thresholds(result, dirs, sources={"predictions": pred, "ground_truth": gt})
    _print_sweep(result)
    console.print(f"sweep.csv: {csv_path}\nheat-map: {png_path}")
    for path in written:
        console.print(f"thresholds: {path}")
    if out:
        run_decode(
            pred, out=out, name="contour_distance", params={**result.best_params,
            "channels": channels}, source=str(written[0]), overwrite=overwrite,
        )  # fmt: skip


def _print_sweep(result) -> None:
    w = result.work
    console.print(
        f"swept {w['settings']} settings in {result.seconds:.1f} s "
        f"({w['seed_sets']} seed sets, {w['foregrounds']} foregrounds, {w['floods']} floods)"
    )
    table = Table(title="best settings (lowest adapted Rand error)")
    for col in [*result.names, "are", "precision", "recall", "voi", "n_instances"]:
        table.add_column(col, justify="right")
    key = "are" if result.metric == "adapted_rand" else "voi"
    for row in sorted(result.rows, key=lambda r: r[key])[:5]:
        table.add_row(
            *[str(row[n]) for n in result.names],
            *[f"{row[k]:.4f}" for k in ("are", "precision", "recall", "voi")],
            str(row["n_instances"]),
        )
    console.print(table)
