"""``volseg config show|check FILE [KEY=VALUE...]``: print or check a resolved config."""

from __future__ import annotations

from pathlib import Path

import typer

config_app = typer.Typer(
    help="Show or check a YAML config (with _base_ inheritance and key=value overrides).",
    no_args_is_help=True,
)

_FILE = typer.Argument(
    ...,
    help="YAML config file, or the name of a shipped tutorial (e.g. lucchi-mito).",
    show_default=False,
)
_OVERRIDES = typer.Argument(
    None, help="Overrides as dotted.key=value, e.g. model.filters=[8,16].", show_default=False
)


@config_app.command("show")
def show(file: Path = _FILE, overrides: list[str] | None = _OVERRIDES) -> None:
    """Print the resolved config as YAML (bases merged, defaults filled, paths absolute)."""
    from volseg.config import load, to_yaml
    from volseg.resources import config_file

    cfg = load(config_file(file), overrides or [])
    typer.echo(to_yaml(cfg), nl=False)


@config_app.command("check")
def check(file: Path = _FILE, overrides: list[str] | None = _OVERRIDES) -> None:
    """Check a config; print one line if it is valid, else the problem (exit code 2)."""
    from volseg.config import count_keys, load
    from volseg.resources import config_file
    from volseg.train.setup import check_without_data

    file = config_file(file)
    cfg = load(file, overrides or [])
    check_without_data(cfg)
    typer.echo(f"ok: {file} is valid ({count_keys(cfg)} keys)")


@config_app.command("migrate")
def migrate(
    source: Path = typer.Argument(
        ..., help="PyTorch Connectomics YAML config.", show_default=False
    ),
    out: Path = typer.Argument(..., help="volseg YAML config to write.", show_default=False),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
) -> None:
    """Turn a PyTorch Connectomics config (2025 tutorials or 2026 stages) into a volseg config.

    Prints a table of every key renamed, converted, dropped (and why) or not translated (with
    the closest volseg option); the written file passes `volseg config check`.
    """
    from volseg.config.migrate import format_table, write
    from volseg.config.migrate import migrate as run_migrate
    from volseg.errors import VolsegError

    if out.exists() and out.resolve() == source.resolve():
        raise VolsegError(f"{out} is the file being migrated; name another output file.")
    if out.exists() and not overwrite:
        raise VolsegError(f"{out} exists; pass --overwrite to replace it.")
    if not out.parent.is_dir():
        raise VolsegError(f"the folder of {out} does not exist.")
    result = run_migrate(source, out_dir=out.parent)
    write(result, out)
    typer.echo(format_table(result.rows), nl=False)
    typer.echo(f"wrote {out} (from the PyTorch Connectomics {result.schema} schema)")


def register(app: typer.Typer) -> None:
    """Add the ``config`` command group to the ``volseg`` app."""
    app.add_typer(config_app, name="config")
