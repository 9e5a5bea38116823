"""``volseg fit CONFIG [KEY=VALUE...]``: train; print the run directory.

``--resume RUN_DIR`` continues a run from its ``checkpoints/last.pt`` (same split, same data
order); ``--init-from CKPT`` fine-tunes from other weights (reporting missing and unexpected
keys); ``--split FILE`` reuses another run's ``split.json`` so two configs are compared on the
same validation set.
"""

from __future__ import annotations

from pathlib import Path

import typer


def fit_command(
    config: Path = typer.Argument(..., help="YAML config file.", show_default=False),
    overrides: list[str] | None = typer.Argument(
        None,
        help="Overrides as dotted.key=value, e.g. optimization.max_epochs=5.",
        show_default=False,
    ),  # fmt: skip
    resume: Path | None = typer.Option(
        None, "--resume", help="Run directory to continue from its checkpoints/last.pt."
    ),
    init_from: Path | None = typer.Option(
        None, "--init-from", help="Checkpoint or state dict to fine-tune from."
    ),
    split: Path | None = typer.Option(
        None, "--split", help="split.json of another run: validate on the same regions."
    ),
    runs: Path = typer.Option(Path("runs"), "--runs", help="Parent folder of run directories."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."
    ),
) -> None:
    """Train a network and print its run directory.

    The run directory RUNS/<experiment_name>/<timestamp>/ holds the resolved config, the split,
    metrics, TensorBoard events, checkpoints (best.pt, last.pt) and figures.
    """
    from volseg.config import load
    from volseg.errors import VolsegError
    from volseg.train import fit
    from volseg.train.run_dir import LATEST

    if resume is not None and (split is not None or init_from is not None):
        raise VolsegError("--resume continues a run as it was; it takes no --split or --init-from.")
    cfg = load(config, overrides or [])
    run_dir = fit(
        cfg, resume=resume, init_from=init_from, split=split, run_root=runs, progress=progress,
        echo=lambda text: typer.echo(text, err=True),
    )  # fmt: skip
    latest = run_dir.parent / LATEST
    if latest.resolve() == run_dir.resolve():
        typer.echo(f"{latest} -> {run_dir.name}", err=True)
    typer.echo(str(run_dir))


def register(app: typer.Typer) -> None:
    """Add ``fit`` to the ``volseg`` app."""
    app.command("fit")(fit_command)
