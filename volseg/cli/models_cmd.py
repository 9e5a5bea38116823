"""``volseg models list``: the models that ship with volseg, ready for ``segment --model``."""

from __future__ import annotations

import typer

models_app = typer.Typer(
    help="Shipped models (use one with `volseg segment --model NAME`).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _scores(card: dict) -> str:
    held = card.get("held_out", {}).get("scores", {})
    shown = ("fg_iou", "f1_50", "f1_75", "are")
    parts = [f"{k} {held[k]:.3f}" for k in shown if isinstance(held.get(k), int | float)]
    return ", ".join(parts) or "-"


@models_app.command("list")
def list_models() -> None:
    """One line per shipped model: task, voxel size, held-out scores, size, folder."""
    from rich.console import Console
    from rich.table import Table

    from volseg import zoo

    table = Table(title="shipped models", title_justify="left")
    for col in ("name", "task", "voxel size (nm)", "held-out scores", "weights", "folder"):
        table.add_column(col)
    for name in zoo.names():
        card = zoo.card(name)
        size = zoo.weights(name).stat().st_size / 1e6
        table.add_row(
            name,
            str(card.get("task", "")),
            " x ".join(f"{v:g}" for v in card.get("voxel_size_nm", [])),
            _scores(card),
            f"{size:.1f} MB",
            str(zoo.run_dir(name)),
        )
    Console(width=200).print(table)


def register(app: typer.Typer) -> None:
    """Add the ``models`` command group to the ``volseg`` app."""
    app.add_typer(models_app, name="models")
