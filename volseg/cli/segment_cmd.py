"""``volseg segment``: predict + decode blockwise + evaluate into one OME-Zarr."""

from __future__ import annotations

from pathlib import Path

import typer

from volseg.errors import VolsegError

_CONFIG = typer.Argument(
    None,
    help="YAML config the checkpoint was trained with (not with --model).",
    show_default=False,
)
_OVERRIDES = typer.Argument(None, help="Config overrides as dotted.key=value.", show_default=False)


def parse_triple(text: str, *, option: str, low: int) -> tuple[int, int, int]:
    """``"64,256,256"`` (or one number for all axes) -> ``(64, 256, 256)``."""
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        values = ()
    if len(values) == 1:
        values = values * 3
    if len(values) != 3 or min(values) < low:
        raise VolsegError(f"{option} must be three integers >= {low} (z,y,x), got {text!r}.")
    return values  # type: ignore[return-value]


def segment_command(
    config: str | None = _CONFIG,
    overrides: list[str] | None = _OVERRIDES,
    model: str | None = typer.Option(
        None, "--model", "-m", help="A shipped model (`volseg models list`) instead of a config."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Trained checkpoint (.pt); not with --model."
    ),
    voxel_size: str | None = typer.Option(
        None, "--voxel-size", help="The image's voxel size z,y,x in nm, when it records none."
    ),
    image: str = typer.Option(..., "--image", help="Image: vol.h5:raw, vol.zarr, vol.tif."),
    out: str = typer.Option(..., "--out", "-o", help="Output OME-Zarr store (seg.zarr)."),
    gt: str | None = typer.Option(None, "--gt", help="Ground-truth labels to score against."),
    mask: str | None = typer.Option(None, "--mask", help="Score only where this is non-zero."),
    cluster: str | None = typer.Option(
        None, "--cluster", help="Run on a new local Dask cluster: local:N workers."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Run on a running Dask scheduler: tcp://host:8786."
    ),
    block_shape: str | None = typer.Option(
        None, "--block-shape", help="Block z,y,x in voxels (default: inference.block_shape)."
    ),
    halo: str | None = typer.Option(
        None, "--halo", help="Decoding context z,y,x per side (default: 16 on the finest axis)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Delete OUT first."),
) -> None:
    """Segment a volume: maps, blockwise-decoded instances and scores in one OME-Zarr.

    With --model NAME a shipped model runs without a config (`volseg models list`); an image
    on another grid than the model's is resampled to it, and the labels come back on the
    image's grid.

    Decoder settings come from thresholds.json beside the checkpoint when present, else from
    the config's test.decoding[0]. Without --cluster/--scheduler, prediction runs in this
    process and decoding on threads. A run that was interrupted resumes when started again.
    """
    import torch

    from volseg.cli.scores_print import print_scores
    from volseg.config import load
    from volseg.infer.cluster import get_client
    from volseg.infer.segment import segment

    config, checkpoint, overrides = model_or_config(
        model, config, checkpoint, overrides or [], image, voxel_size, say=typer.echo
    )
    cfg = load(config, overrides)
    blocks = (
        parse_triple(block_shape, option="--block-shape", low=1)
        if block_shape is not None
        else None
    )
    context = parse_triple(halo, option="--halo", low=1) if halo is not None else None
    torch.set_num_threads(max(1, int(cfg.system.inference.num_cpus)))
    client = get_client(cluster, scheduler)
    try:
        summary = segment(
            cfg, checkpoint, image, out, gt=gt, mask=mask, client=client, block_shape=blocks,
            halo=context, overwrite=overwrite, say=typer.echo,
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    if summary["metrics"] is not None:
        print_scores(summary["metrics"])
        typer.echo(f"metrics: {summary['metrics_path']}")


def model_or_config(
    model: str | None,
    config: str | None,
    checkpoint: Path | None,
    overrides: list[str],
    image: str,
    voxel_size: str | None,
    *,
    say,
) -> tuple[Path, Path, list[str]]:
    """``(config, checkpoint, overrides)`` for a shipped ``model`` or a config file.

    With ``model`` the positional CONFIG, if any, is the first override. A shipped model
    needs the image's voxel size (from its metadata or ``--voxel-size``), and says when the
    image is resampled to the model's grid.
    """
    from volseg.infer.shipped import check_image_for, parse_voxel_size, shipped_paths

    size = parse_voxel_size(voxel_size)  # one check for both routes
    extra = [] if size is None else [f"inference.voxel_size=[{','.join(map(str, size))}]"]
    if model is None:
        if config is None or checkpoint is None:
            raise VolsegError(
                "give a CONFIG and --checkpoint, or a shipped model with --model NAME "
                "(`volseg models list`)."
            )
        return Path(config), checkpoint, [*overrides, *extra]
    if checkpoint is not None:
        raise VolsegError("--model brings its own weights; leave out --checkpoint.")
    cfg_path, weights = shipped_paths(model)
    say(check_image_for(model, image, size))
    first = [] if config is None else [config]
    return cfg_path, weights, [*first, *overrides, *extra]


def register(app: typer.Typer) -> None:
    """Add ``volseg segment`` to the app."""
    app.command("segment")(segment_command)
