"""``volseg active CONFIG --checkpoint CKPT --pool VOL --strategy S --out ranked.json``.

Ranks the pool's regions for annotation (:mod:`volseg.active`); writes the ranking as JSON and
as a napari shapes CSV beside it, and prints the JSON's path. With ``--simulate`` the config's
labelled training volume plays the annotator (:mod:`volseg.active.simulate`): ``--out`` is a
folder that gets the learning curves.
"""

from __future__ import annotations

from pathlib import Path

import typer


def active_command(
    config: Path = typer.Argument(..., help="YAML config the checkpoint was trained with."),
    overrides: list[str] = typer.Argument(
        None, help="Config overrides as dotted.key=value.", show_default=False
    ),
    pool: str | None = typer.Option(
        None, "--pool", help="Unlabelled pool: vol.h5:raw, vol.zarr, ... (not with --simulate)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Ranking JSON (a .shapes.csv beside); with --simulate a folder."
    ),
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
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier output."),
    simulate: bool = typer.Option(
        False, "--simulate", help="Replay on the config's labelled training volume."
    ),
    strategies: str = typer.Option(
        "random,entropy", "--strategies", help="--simulate: comma-separated strategies."
    ),
    rounds: int = typer.Option(3, "--rounds", help="--simulate: query rounds."),
    start: float = typer.Option(0.1, "--start", help="--simulate: fraction labelled at first."),
    query: float = typer.Option(0.1, "--query", help="--simulate: fraction queried per round."),
    steps: int = typer.Option(200, "--steps", help="--simulate: training steps per round."),
) -> None:
    """Rank regions of a pool for annotation; print the ranking's path (or, with --simulate,
    the learning-curve folder)."""
    from volseg.active.rank import rank, shapes_path, write_ranking
    from volseg.active.regions import parse_region
    from volseg.config import load
    from volseg.errors import VolsegError
    from volseg.io.guard import refuse_overlap

    size = parse_region(region)
    if simulate:
        from volseg.active.simulate import simulate as run_simulation

        if pool is not None or checkpoint is not None:
            raise VolsegError("--simulate trains its own models on the config's training "
                              "volume; leave out --pool and --checkpoint.")  # fmt: skip
        done = run_simulation(
            config, out, overrides=overrides or [], region=size,
            strategies=[s.strip() for s in strategies.split(",") if s.strip()], rounds=rounds,
            start=start, query=query, steps=steps, feature_layer=feature_layer,
            overwrite=overwrite, echo=lambda text: typer.echo(text, err=True),
        )  # fmt: skip
        typer.echo((done / "curve.md").read_text(encoding="utf-8"), err=True)
        typer.echo(str(done))
        return
    if pool is None:
        raise VolsegError("give the unlabelled pool as --pool VOL (or --simulate).")
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
