"""``volseg predict CONFIG --checkpoint CKPT --image VOL --out PRED.zarr``: maps of a volume."""

from __future__ import annotations

from pathlib import Path

import typer

from volseg.errors import VolsegError

_CONFIG = typer.Argument(..., help="YAML config the checkpoint was trained with.")
_OVERRIDES = typer.Argument(None, help="Config overrides as dotted.key=value.", show_default=False)


def parse_block_shape(text: str) -> tuple[int, int, int]:
    """``"64,256,256"`` -> ``(64, 256, 256)``; VolsegError for anything else."""
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise VolsegError(f"--block-shape must be three positive integers z,y,x, got {text!r}.")
    return values  # type: ignore[return-value]


def predict_command(
    config: Path = _CONFIG,
    overrides: list[str] | None = _OVERRIDES,
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Trained checkpoint (.pt)."),
    image: str = typer.Option(..., "--image", help="Image: vol.h5:raw, vol.zarr, vol.tif."),
    out: str | None = typer.Option(
        None, "--out", "-o", help="Maps zarr (default: inference.output_path)."
    ),
    cluster: str | None = typer.Option(
        None, "--cluster", help="Blockwise on a new local Dask cluster: local:N workers."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Blockwise on a running Dask scheduler: tcp://host:8786."
    ),
    block_shape: str | None = typer.Option(
        None, "--block-shape", help="Block z,y,x in voxels (default: inference.block_shape)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
) -> None:
    """Predict maps (c, z, y, x) of a volume: sliding window + TTA, streamed to zarr.

    Without --cluster/--scheduler the volume is predicted in this process. With one of them,
    one Dask task per block runs on the cluster, and an interrupted run resumes its missing
    blocks when started again.
    """
    from volseg.config import load
    from volseg.infer import get_client, predict

    cfg = load(config, overrides or [])
    blocks = parse_block_shape(block_shape) if block_shape else None
    target = out or cfg.inference.output_path
    if not target:
        raise VolsegError("give --out or set inference.output_path in the config.")
    _threads(int(cfg.system.inference.num_cpus))
    client = get_client(cluster, scheduler)
    try:
        maps = predict(
            cfg, checkpoint, image, target, client=client, block_shape=blocks,
            overwrite=overwrite, say=typer.echo,
        )  # fmt: skip
    finally:
        if client is not None:
            client.close()
    names = ", ".join(maps.attrs.get("channels") or [])
    typer.echo(f"wrote {target}: {maps.dtype} maps {maps.shape} ({names})")


def _threads(count: int) -> None:
    import torch

    torch.set_num_threads(max(1, count))


def register(app: typer.Typer) -> None:
    """Add ``volseg predict`` to the app."""
    app.command("predict")(predict_command)
