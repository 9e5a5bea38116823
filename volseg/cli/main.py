"""One ``volseg`` command with subcommands.

Each subcommand lives in its own module (``volseg/cli/<name>_cmd.py``) exposing
``register(app)``; heavy imports (torch, numba kernels) happen inside the commands so
``volseg --help`` stays fast. Bad input raises :class:`volseg.errors.VolsegError`, which is
printed as one sentence on stderr with exit code 2 (a traceback only with ``--debug``).

The library logs through ``logging.getLogger(__name__)``; this module decides what shows:
status lines at INFO by default, ``-q`` warnings only (and no progress bars), ``-v`` debug.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click
import typer

from volseg.errors import VolsegError

try:  # typer >= 0.20 ships its own copy of click; catch both
    from typer._click import exceptions as _typer_click
except ImportError:  # pragma: no cover
    _typer_click = click.exceptions

CLICK_ERRORS = (click.exceptions.ClickException, _typer_click.ClickException)
CLICK_ABORT = (click.exceptions.Abort, typer.Abort)
CLICK_EXIT = (click.exceptions.Exit, typer.Exit)

#: ``-h`` as ``--help`` on every command (subcommands inherit it from the root's context).
CONTEXT = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    name="volseg",
    help="3D instance segmentation of volumetric electron microscopy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT,
)

# Modules that add subcommands; each exposes ``register(app)``.
COMMAND_MODULES = (
    "volseg.cli.config_cmd",
    "volseg.cli.synth_cmd",
    "volseg.cli.decode_cmd",
    "volseg.cli.evaluate_cmd",
    "volseg.cli.demo_cmd",
    "volseg.cli.model_cmd",
    "volseg.cli.models_cmd",
    "volseg.cli.fit_cmd",
    "volseg.cli.view_cmd",
    "volseg.cli.predict_cmd",
    "volseg.cli.profile_cmd",
    "volseg.cli.segment_cmd",
    "volseg.cli.test_cmd",
    "volseg.cli.export_cmd",
    "volseg.cli.compare_cmd",
    "volseg.cli.selftrain_cmd",
    "volseg.cli.active_cmd",
)


def version() -> str:
    """The installed volseg's version (the package metadata; the module's when not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("volseg")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        from volseg import __version__

        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"volseg {version()}")
        raise typer.Exit()


class _StderrHandler(logging.Handler):
    """``volseg: message`` on whatever ``sys.stderr`` is when the record comes (a progress
    bar's redirect, a test's capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"volseg: {self.format(record)}\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - logging must never stop the command
            self.handleError(record)


def configure_logging(verbose: int = 0, quiet: bool = False) -> int:
    """Route the library's log records to stderr at the level the flags ask for; returns it."""
    from volseg import progress

    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logger = logging.getLogger("volseg")
    for handler in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
        logger.removeHandler(handler)
    logger.addHandler(_StderrHandler())
    logger.setLevel(level)  # records still propagate: the root has no handler in the CLI
    progress.set_enabled(False if quiet else None)
    return level


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More detail (debug messages)."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Warnings and errors only; no progress bars."
    ),
    show_version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),  # fmt: skip
) -> None:
    """3D instance segmentation of volumetric electron microscopy."""
    configure_logging(verbose, quiet)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()

USER_ERRORS = (VolsegError, FileNotFoundError, PermissionError, IsADirectoryError)


def fail(message: str) -> None:
    """Print one sentence on stderr and exit 2.

    Reads still pending when the error stopped the command (zarr's asyncio tasks, Dask's
    connections) would log pages of "Task was destroyed but it is pending" and closed-comm
    tracebacks while the interpreter exits; the sentence is what the user needs, so those
    loggers are quieted from here on.
    """
    import logging

    print(f"volseg: error: {message}", file=sys.stderr)
    for name in ("asyncio", "distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        rv = app(args=args, prog_name="volseg", standalone_mode=False)
    except CLICK_ERRORS as exc:  # usage errors: click's own message, exit 2
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except CLICK_ABORT:
        print("volseg: aborted", file=sys.stderr)
        raise SystemExit(1) from None
    except CLICK_EXIT as exc:
        raise SystemExit(exc.exit_code) from None
    except USER_ERRORS as exc:
        if debug:
            raise
        message = str(exc)
        if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in message:
            message = f"{exc.strerror}: {exc.filename}"
        fail(message)
    raise SystemExit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
