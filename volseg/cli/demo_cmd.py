"""``volseg demo``: the end-to-end job on embedded data."""

from __future__ import annotations

from pathlib import Path

import typer

from volseg.errors import VolsegError


def demo(
    out: Path = typer.Argument(Path("demo_out"), help="Output folder."),
    minutes: float = typer.Option(5.0, help="Training time budget in minutes."),
    seed: int = typer.Option(0, help="Random seed."),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Folder holding lucchi_pp_crops/train_crop.h5 (the Lucchi++ crop). Default: the "
        "checkout's ../shared/data when there, else synthetic vesicles.",
        show_default=False,
    ),
) -> None:
    """Train briefly, predict held-out data, sweep thresholds, decode, evaluate, report."""
    from volseg.demo import run

    if minutes <= 0:
        raise VolsegError(f"--minutes must be positive, got {minutes}.")
    run(out, minutes=minutes, seed=seed, data=data)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
