"""``volseg selftrain CONFIG [KEY=VALUE ...] --unlabelled VOL [--unlabelled VOL ...] --out DIR``.

Supervised training on the labelled data, then ``selftrain.iterations`` rounds of
pseudo-labelling the unlabelled volumes and retraining; every run scored against the original
ground truth on the fixed validation region, beside a supervised-only baseline of the same
total steps. See :mod:`volseg.selftrain.loop` for the layout of ``--out``.
"""

from __future__ import annotations

from pathlib import Path

import typer


def selftrain_command(
    config: Path = typer.Argument(..., help="Config with the labelled data and `selftrain:`."),
    overrides: list[str] | None = typer.Argument(
        None,
        help="Overrides as dotted.key=value, e.g. selftrain.iterations=2.",
        show_default=False,
    ),  # fmt: skip
    unlabelled: list[str] = typer.Option(
        ..., "--unlabelled", help="Unlabelled image volume (repeat the option for more)."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (iterations, summary)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an earlier self-training."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bars (default: on a terminal)."
    ),
) -> None:
    """Self-train on pseudo-labels of unlabelled volumes; print the output folder."""
    from volseg.config import load
    from volseg.selftrain import selftrain

    cfg = load(config, overrides or [])
    done = selftrain(
        cfg, unlabelled, out, overwrite=overwrite, progress=progress,
        echo=lambda text: typer.echo(text, err=True),
    )  # fmt: skip
    typer.echo((done / "summary.md").read_text(encoding="utf-8"), err=True)
    typer.echo(str(done))


def register(app: typer.Typer) -> None:
    """Add ``selftrain`` to the ``volseg`` app."""
    app.command("selftrain")(selftrain_command)
