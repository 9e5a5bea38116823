"""``volseg decode``: maps to instances, or a threshold sweep against ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from volseg.errors import VolsegError

PAIR_OPTIONS = ("binary_threshold", "contour_threshold", "distance_threshold")


def parse_pair(text: str | None, *, name: str) -> tuple[float | None, float | None] | None:
    """'0.9,0.85' -> (0.9, 0.85); 'none' -> None; '0.9,none' -> (0.9, None)."""
    if text is None or text.strip().lower() == "none":
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise VolsegError(
            f"--{name.replace('_', '-')} takes 'seed,fg' (two numbers), got {text!r}."
        )
    try:
        return tuple(None if p.lower() == "none" else float(p) for p in parts)  # type: ignore
    except ValueError:
        raise VolsegError(f"--{name.replace('_', '-')} takes numbers, got {text!r}.") from None


def parse_channels(text: str) -> tuple[int | None, ...]:
    """'0,1,2' or '0,-,1' (a dash for an absent map)."""
    try:
        return tuple(None if p.strip() in ("-", "none") else int(p) for p in text.split(","))
    except ValueError:
        raise VolsegError(
            f"--channels takes indices like '0,1,2' or '0,-,1', got {text!r}."
        ) from None


def load_maps(path: str):
    """Open predicted maps and return (float32 maps, volume)."""
    from volseg.io import open_volume
    from volseg.maps import dequantize

    volume = open_volume(path)
    if volume.ndim != 4:
        raise VolsegError(
            f"{path} must hold channel-first maps (c, z, y, x); got shape {volume.shape}."
        )
    return dequantize(volume.numpy(), volume.attrs, source=path), volume


def load_labels(path: str, *, name: str):
    from volseg.io import open_volume

    volume = open_volume(path)
    if volume.ndim != 3:
        raise VolsegError(f"{name} {path} must be a (z, y, x) volume; got shape {volume.shape}.")
    return volume


def config_decoding(config: Path | None, overrides: list[str]) -> tuple[str | None, dict, Any]:
    """Decoder name and kwargs from a config's first ``test.decoding`` entry, and the config."""
    if config is None:
        return None, {}, None
    from omegaconf import OmegaConf

    from volseg.config import load

    cfg = load(config, overrides)
    decoding = OmegaConf.to_container(cfg.test.decoding, resolve=True) or []
    if not decoding:
        return None, {}, cfg
    first = decoding[0]
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in first.get("kwargs", {}).items()}
    return (
        first["name"],
        {k: v for k, v in params.items() if v is not None or k in PAIR_OPTIONS},
        cfg,
    )


def resolve_params(
    pred: str,
    *,
    decoder: str | None,
    explicit: dict[str, Any],
    config: Path | None,
    overrides: list[str],
    thresholds: Path | None,
    use_thresholds: bool,
) -> tuple[str, dict[str, Any], str]:
    """Decoder settings: explicit flags over thresholds.json (next to PRED) over config."""
    from volseg.tune.report import THRESHOLDS_NAME, read_thresholds

    cfg_name, cfg_params, _ = config_decoding(config, overrides)
    candidate = thresholds or (Path(pred.split(":")[0]).resolve().parent / THRESHOLDS_NAME)
    name, params, source = cfg_name, dict(cfg_params), "config" if config else "defaults"
    if use_thresholds and (thresholds is not None or candidate.exists()):
        t_name, t_params = read_thresholds(candidate)
        if decoder is None or decoder == t_name:
            name, params, source = t_name, t_params, str(candidate)
    name = decoder or name or "contour_distance"
    params.update(explicit)
    if explicit:
        source += " + command-line options"
    return name, params, source


def decode(
    pred: str = typer.Argument(
        ..., help="Predicted maps (c, z, y, x): zarr, h5 (file.h5:key), tif."
    ),
    out: str | None = typer.Option(None, "--out", "-o", help="Labels output (OME-Zarr)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Config with test.decoding."),
    override: list[str] = typer.Option([], "--set", help="Config override key=value (repeatable)."),
    decoder: str | None = typer.Option(None, help="contour_distance | watershed | cc."),
    binary_threshold: str | None = typer.Option(None, help="seed,fg e.g. 0.9,0.85 (or none)."),
    contour_threshold: str | None = typer.Option(None, help="seed,fg e.g. 0.8,none."),
    distance_threshold: str | None = typer.Option(None, help="seed,fg e.g. 0.5,0."),
    min_seed_size: int | None = typer.Option(None, help="Drop smaller seeds (voxels)."),
    min_instance_size: int | None = typer.Option(None, help="Drop smaller instances (voxels)."),
    channels: str | None = typer.Option(None, help="Channels of binary,contour,distance: 0,1,2."),
    thresholds: Path | None = typer.Option(None, help="thresholds.json to use."),
    no_thresholds: bool = typer.Option(False, help="Ignore thresholds.json next to PRED."),
    sweep: str | None = typer.Option(None, help="'thresholds': sweep decoder settings vs --gt."),
    gt: str | None = typer.Option(None, help="Ground-truth labels (for --sweep)."),
    mask: str | None = typer.Option(None, help="Evaluation mask (for --sweep)."),
    space: Path | None = typer.Option(None, help="YAML parameter space (default: config tune)."),
    workers: int | None = typer.Option(None, help="Threads for the sweep (default: all cores)."),
    out_dir: Path | None = typer.Option(None, help="Where sweep.csv and the heat-map go."),
    overwrite: bool = typer.Option(False, help="Replace an existing --out."),
) -> None:
    """Decode predicted maps into instance labels, or sweep decoder thresholds."""
    from volseg.cli.sweep_run import run_decode, run_sweep

    explicit: dict[str, Any] = {}
    for name, text in zip(
        PAIR_OPTIONS, (binary_threshold, contour_threshold, distance_threshold), strict=True
    ):
        if text is not None:
            explicit[name] = parse_pair(text, name=name)
    if min_seed_size is not None:
        explicit["min_seed_size"] = min_seed_size
    if min_instance_size is not None:
        explicit["min_instance_size"] = min_instance_size
    if channels is not None:
        explicit["channels"] = parse_channels(channels)
    if sweep is not None:
        if sweep != "thresholds":
            raise VolsegError(f"--sweep takes 'thresholds', got {sweep!r}.")
        if gt is None:
            raise VolsegError("--sweep thresholds needs ground truth: add --gt GT.")
        run_sweep(
            pred, gt=gt, mask=mask, config=config, overrides=override, space=space,
            workers=workers, out_dir=out_dir, explicit=explicit, decoder=decoder,
            out=out, overwrite=overwrite,
        )  # fmt: skip
        return
    if out is None:
        raise VolsegError("say where the labels go: add --out LABELS.zarr.")
    name, params, source = resolve_params(
        pred, decoder=decoder, explicit=explicit, config=config, overrides=override,
        thresholds=thresholds, use_thresholds=not no_thresholds,
    )  # fmt: skip
    run_decode(pred, out=out, name=name, params=params, source=source, overwrite=overwrite)


def register(app: typer.Typer) -> None:
    app.command("decode")(decode)
