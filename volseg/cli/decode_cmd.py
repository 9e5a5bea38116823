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


def decode(
    pred: str = typer.Argument(
        ..., help="Predicted maps (c, z, y, x): zarr, h5 (file.h5:key), tif."
    ),
    out: str | None = typer.Option(None, "--out", "-o", help="Labels output (OME-Zarr)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="Config with test.decoding."),
    override: list[str] = typer.Option([], "--set", help="Config override key=value (repeatable)."),
    decoder: str | None = typer.Option(
        None, help="contour_distance | watershed | cc | agglomerate | mutex_watershed | affinity_cc"
    ),
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
    metric: str | None = typer.Option(
        None, help="Sweep objective, e.g. f1@0.5, are_ignore_bg (default: chosen by the data)."
    ),
    workers: int | None = typer.Option(None, help="Threads for the sweep (default: all cores)."),
    out_dir: Path | None = typer.Option(None, help="Where sweep.csv and the heat-map go."),
    block_shape: str | None = typer.Option(
        None, "--block-shape", help="Decode blockwise in blocks z,y,x (resumable)."
    ),
    halo: str | None = typer.Option(
        None, "--halo", help="Blockwise context z,y,x per side (default: 16 on the finest axis)."
    ),
    cluster: str | None = typer.Option(
        None, "--cluster", help="Decode blockwise on a new local Dask cluster: local:N."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Decode blockwise on a running Dask scheduler: tcp://host:8786."
    ),
    overwrite: bool = typer.Option(False, help="Replace an existing --out."),
) -> None:
    """Decode predicted maps into instance labels, or sweep decoder thresholds.

    Settings: command-line options over --thresholds over the thresholds.json of the run that
    made the maps (or beside them) over the config's test.decoding[0] over decoder defaults.
    With --block-shape, --cluster or --scheduler the maps are decoded block by block into a
    zarr (never held in memory whole); an interrupted run resumes when started again.
    """
    from volseg.config import load
    from volseg.decode.files import decode_file
    from volseg.io import open_volume
    from volseg.tune.settings import resolve

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
    if override and config is None:
        raise VolsegError("--set needs --config (the overrides apply to a config file).")
    from volseg.io.guard import refuse_overlap

    inputs = {"maps": pred, "ground truth": gt, "mask": mask}
    if out is not None:
        refuse_overlap(out, inputs)
    if out_dir is not None:
        refuse_overlap(out_dir, inputs, option="--out-dir")
    cfg = load(config, override) if config is not None else None
    if sweep is not None:
        from volseg.cli.scores_print import print_sweep
        from volseg.tune.run import run_sweep

        if sweep != "thresholds":
            raise VolsegError(f"--sweep takes 'thresholds', got {sweep!r}.")
        if gt is None:
            raise VolsegError("--sweep thresholds needs ground truth: add --gt GT.")
        files = run_sweep(
            pred, gt=gt, mask=mask, cfg=cfg, space=space, explicit=explicit, decoder=decoder,
            metric=metric, workers=workers, out_dir=out_dir, say=typer.echo,
        )  # fmt: skip
        print_sweep(files)
        if out:
            r = files.result
            source = str(files.thresholds)
            decode_file(pred, out=out, name=r.decoder, params=r.best_params, source=source,
                        overwrite=overwrite, say=typer.echo)  # fmt: skip
        return
    if out is None:
        raise VolsegError("say where the labels go: add --out LABELS.zarr.")
    with open_volume(pred) as volume:
        n_channels = int(volume.shape[0]) if volume.ndim == 4 else 0
        made_by = volume.attrs.get("checkpoint")
    if n_channels == 0:
        raise VolsegError(f"{pred} must hold channel-first maps (c, z, y, x).")
    chosen = resolve(
        cfg=cfg, explicit=explicit, decoder=decoder, thresholds=thresholds,
        use_thresholds=not no_thresholds, maps_path=pred, checkpoint=made_by,
        n_channels=n_channels, what=f"the maps {pred}",
    )  # fmt: skip
    if block_shape is None and halo is None and cluster is None and scheduler is None:
        decode_file(pred, out=out, name=chosen.name, params=chosen.params, source=chosen.source,
                    overwrite=overwrite, say=typer.echo)  # fmt: skip
        return
    from volseg.cli.segment_cmd import parse_triple
    from volseg.infer.blockwise_decode import blockwise_decode, reuse_line
    from volseg.infer.cluster import get_client

    blocks = (
        parse_triple(block_shape, option="--block-shape", low=1)
        if block_shape is not None
        else None
    )
    context = parse_triple(halo, option="--halo", low=1) if halo is not None else None
    typer.echo(f"decoder {chosen.name} with settings from {chosen.source}: {chosen.params}")
    client = get_client(cluster, scheduler)
    try:
        labels = blockwise_decode(
            pred, out, decoder=chosen.name, params=chosen.params, block_shape=blocks,
            halo=context, client=client, overwrite=overwrite,
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    result = labels.attrs["blockwise_result"]
    typer.echo(reuse_line(result))
    typer.echo(f"wrote {int(result['instances'])} instances to {out}")


def register(app: typer.Typer) -> None:
    app.command("decode")(decode)
