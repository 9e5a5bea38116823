"""``volseg export CKPT_OR_RUN OUT --format bioimageio``: a trained model for other tools."""

from __future__ import annotations

from pathlib import Path

import typer

_SOURCE = typer.Argument(
    ...,
    help="Run directory (exports its checkpoints/best.pt), checkpoint file, or the name of a "
    "shipped model (`volseg models list`).",
    show_default=False,
)  # fmt: skip
_OUT = typer.Argument(..., help="Output package, e.g. model.zip.", show_default=False)


def export_command(
    source: Path = _SOURCE,
    out: Path = _OUT,
    fmt: str = typer.Option(
        ..., "--format", help="Export format: bioimageio (BioImage Model Zoo, spec 0.5)."
    ),
    image: str | None = typer.Option(
        None,
        "--image",
        help="Image to cut the test input from (default: the run's first training image).",
    ),
    card: Path | None = typer.Option(
        None,
        "--card",
        help="Model card YAML: name, authors, license, cite ... (default: RUN/model_card.yaml).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a package volseg exported."),
    check: bool = typer.Option(
        False, "--check", help="Then validate the package and run its test with bioimageio.core."
    ),
) -> None:
    """Export a trained model: weights (state dict + TorchScript), test tensors, pre- and
    post-processing, cover, README and citations in one BioImage Model Zoo package."""
    from volseg import zoo
    from volseg.export import check_package, export_model

    if not source.exists() and str(source) in zoo.names():
        source = zoo.run_dir(str(source))
    path = export_model(
        source, out, fmt=fmt, image=image, card=card, overwrite=overwrite, say=typer.echo
    )
    typer.echo(f"wrote {path}: BioImage Model Zoo package")
    if check:
        results = check_package(path)
        for weights, result in results.items():
            typer.echo(f"bioimageio test, {weights}: {result}")
        if any(v != "passed" for v in results.values()):
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``volseg export`` to the app."""
    app.command("export")(export_command)
