"""``volseg config show|check FILE [KEY=VALUE...]``: print or check a resolved config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

config_app = typer.Typer(
    help="Show or check a YAML config (with _base_ inheritance and key=value overrides).",
    no_args_is_help=True,
)

_FILE = typer.Argument(..., help="YAML config file.", show_default=False)
_OVERRIDES = typer.Argument(
    None, help="Overrides as dotted.key=value, e.g. model.filters=[8,16].", show_default=False
)


@config_app.command("show")
def show(file: Path = _FILE, overrides: list[str] | None = _OVERRIDES) -> None:
    """Print the resolved config as YAML (bases merged, defaults filled, paths absolute)."""
    from volseg.config import load, to_yaml

    cfg = load(file, overrides or [])
    typer.echo(to_yaml(cfg), nl=False)


@config_app.command("check")
def check(file: Path = _FILE, overrides: list[str] | None = _OVERRIDES) -> None:
    """Check a config; print one line if it is valid, else the problem (exit code 2)."""
    from volseg.config import count_keys, load

    cfg = load(file, overrides or [])
    check_without_data(cfg)
    typer.echo(f"ok: {file} is valid ({count_keys(cfg)} keys)")


def check_without_data(cfg: Any) -> None:
    """The checks ``fit`` makes before reading any data: monitor names and their modes."""
    from volseg.train.setup import monitors

    data = cfg.data  # without training data (a base file) the split cannot lack validation
    has_val = data.val_region is not None or bool(data.val_image) or not data.train_image
    monitors(cfg, has_val=has_val)


def register(app: typer.Typer) -> None:
    """Add the ``config`` command group to the ``volseg`` app."""
    app.add_typer(config_app, name="config")
