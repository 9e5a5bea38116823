"""``volseg model summary FILE [KEY=VALUE...]``: layers, parameters, receptive field."""

from __future__ import annotations

from pathlib import Path

import typer

from volseg.errors import VolsegError

model_app = typer.Typer(help="Inspect the network a config builds.", no_args_is_help=True)

_FILE = typer.Argument(..., help="YAML config file.", show_default=False)
_OVERRIDES = typer.Argument(
    None, help="Overrides as dotted.key=value, e.g. model.filters=[8,16].", show_default=False
)
_SHAPE = typer.Option(
    None,
    "--shape",
    help="Probe input z,y,x for output shapes and the receptive field (default: model.input_size).",
    show_default=False,
)
_DEPTH = typer.Option(2, "--depth", min=1, help="Module nesting depth of the layer table.")


def parse_shape(text: str) -> tuple[int, int, int]:
    """``"32,128,128"`` -> ``(32, 128, 128)``; VolsegError for anything else."""
    try:
        values = tuple(int(v) for v in text.replace("x", ",").split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1:
        raise VolsegError(f"--shape must be three positive integers z,y,x, got {text!r}.")
    return values  # type: ignore[return-value]


@model_app.command("summary")
def summary(
    file: Path = _FILE,
    overrides: list[str] | None = _OVERRIDES,
    shape: str | None = _SHAPE,
    depth: int = _DEPTH,
) -> None:
    """Print the layers, parameter count, output shapes and receptive field of the model.

    The receptive field is measured for every architecture (gradient of the centre output voxel
    with respect to the input, on a 2-channel twin of the network); for rsunet it is also
    computed analytically.
    """
    from volseg.config import load
    from volseg.models import build
    from volseg.models.summary import narrow_twin, summarize

    cfg = load(file, overrides or [])
    probe = parse_shape(shape) if shape is not None else tuple(int(v) for v in cfg.model.input_size)
    model = build(cfg.model)
    twin = narrow_twin(cfg.model)  # same layout, 2 channels: a cheap gradient probe
    typer.echo(summarize(model, input_shape=probe, depth=depth, probe=twin))


def register(app: typer.Typer) -> None:
    """Add the ``model`` command group to the ``volseg`` app."""
    app.add_typer(model_app, name="model")
