"""``volseg active CONFIG --checkpoint CKPT --pool VOL --strategy S --out ranked.json``.

Ranks the pool's regions for annotation (:mod:`volseg.active`); writes the ranking as JSON and
as a napari shapes CSV beside it, and prints the JSON's path.
"""

from __future__ import annotations

from pathlib import Path

import typer


def active_command(
    config: Path = typer.Argument(..., help="YAML config the checkpoint was trained with."),
    overrides: list[str] = typer.Argument(
        None, help="Config overrides as dotted.key=value.", show_default=False
    ),
    pool: str = typer.Option(..., "--pool", help="Unlabelled pool: vol.h5:raw, vol.zarr, ..."),
    out: Path = typer.Option(..., "--out", help="Ranking JSON (a .shapes.csv is written beside)."),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Trained checkpoint (.pt); every strategy but random needs it."
    ),
    region: str = typer.Option("16,128,128", "--region", help="Region size z,y,x in voxels."),
    strategy: str = typer.Option(
        "entropy",
        "--strategy",
        help="random | least_confidence | entropy | margin | tta | diversity | hybrid.",
    ),
    budget: int | None = typer.Option(None, "--budget", help="Keep the first K regions."),
    feature_layer: str | None = typer.Option(
        None, "--feature-layer", help="Model module pooled for diversity/hybrid (named_modules)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the random strategy."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier ranking."),
) -> None:
    """Rank regions of a pool for annotation; print the ranking's path."""
    from volseg.active.rank import rank, shapes_path, write_ranking
    from volseg.active.regions import parse_region
    from volseg.config import load
    from volseg.errors import VolsegError
    from volseg.io.guard import refuse_overlap

    size = parse_region(region)
    refuse_overlap(out, {"pool": pool, "checkpoint": checkpoint, "config": config})
    if not overwrite:
        for path in (out, shapes_path(out)):
            if path.exists():
                raise VolsegError(f"{path} exists; pass --overwrite to replace it.")
    cfg = load(config, overrides or [])
    ranking = rank(cfg, checkpoint, pool, region=size, strategy=strategy, budget=budget,
                   feature_layer=feature_layer, seed=seed)  # fmt: skip
    written, _ = write_ranking(ranking, out, overwrite=overwrite)
    typer.echo(str(written))


def register(app: typer.Typer) -> None:
    """Add ``active`` to the ``volseg`` app."""
    app.command("active")(active_command)
