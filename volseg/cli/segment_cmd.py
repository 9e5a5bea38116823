"""``volseg segment``: predict + decode blockwise + evaluate into one OME-Zarr."""

from __future__ import annotations

from pathlib import Path

import typer

from volseg.errors import VolsegError

_CONFIG = typer.Argument(..., help="YAML config the checkpoint was trained with.")
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
    config: Path = _CONFIG,
    overrides: list[str] | None = _OVERRIDES,
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Trained checkpoint (.pt)."),
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

    Decoder settings come from thresholds.json beside the checkpoint when present, else from
    the config's test.decoding[0]. Without --cluster/--scheduler, prediction runs in this
    process and decoding on threads. A run that was interrupted resumes when started again.
    """
    import torch

    from volseg.cli.scores_print import print_scores
    from volseg.config import load
    from volseg.infer.cluster import get_client
    from volseg.infer.segment import segment

    cfg = load(config, overrides or [])
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


def register(app: typer.Typer) -> None:
    """Add ``volseg segment`` to the app."""
    app.command("segment")(segment_command)
