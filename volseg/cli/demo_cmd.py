"""``volseg demo``: the end-to-end job on embedded data."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    out: Path = typer.Argument(Path("demo_out"), help="Output folder."),
    seed: int = typer.Option(0, help="Random seed of the synthetic data."),
) -> None:
    """Synthesise data, build maps, sweep decoder thresholds, decode, evaluate, report."""
    from volseg.demo import run

    run(out, seed=seed)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
