"""``volseg compare CONFIG_OR_RUN [CONFIG_OR_RUN ...] --out DIR``: compare models fairly.

Configs are trained now, on one split, with one seed and one number of steps; finished run
directories are collected. Runs on different splits, validation regions, seeds or lengths
are refused. Writes ``table.md``, ``table.csv`` and ``curves.png`` into ``--out``.
"""

from __future__ import annotations

from pathlib import Path

import typer


def compare_command(
    entries: list[Path] = typer.Argument(
        ...,
        help="Config files (trained now) and run directories (collected).",
        metavar="CONFIG_OR_RUN",
        show_default=False,
    ),
    out: Path = typer.Option(..., "--out", help="Output folder: table.md, table.csv, curves.png."),
    split: Path | None = typer.Option(
        None, "--split", help="split.json every config trains on (default: the first run's)."
    ),
    steps: int | None = typer.Option(
        None, "--steps", min=1, help="Optimizer steps of every run (default: the first run's)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="system.seed of every run (default: the first entry's)."
    ),
    metric: str = typer.Option("val_iou", "--metric", help="The compared validation value."),
    smooth: int = typer.Option(5, "--smooth", min=1, help="Trailing moving-average window."),
    runs: Path = typer.Option(Path("runs"), "--runs", help="Parent folder of new run directories."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier comparison."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bars (default: on a terminal)."
    ),
) -> None:
    """Train or collect several runs on one split and compare them; print the output folder."""
    from volseg.compare import compare

    done = compare(
        entries, out, split=split, steps=steps, seed=seed, metric=metric, smooth=smooth,
        run_root=runs, overwrite=overwrite, progress=progress,
        echo=lambda text: typer.echo(text, err=True),
    )  # fmt: skip
    typer.echo((done / "table.md").read_text(encoding="utf-8"), err=True)
    typer.echo(str(done))


def register(app: typer.Typer) -> None:
    """Add ``compare`` to the ``volseg`` app."""
    app.command("compare")(compare_command)
