"""``volseg view``: open volseg outputs in napari, with the re-decode widget."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from volseg.errors import VolsegError

_KEYED = re.compile(r"^(?P<file>.+?\.(?:h5|hdf5|hdf|zarr|tif|tiff)):(?P<key>.*)$", re.IGNORECASE)


def check_exists(path: str, *, what: str = "path") -> None:
    """One clear sentence (exit 2) for a path that is not there, before anything heavy loads."""
    if Path(path).exists():
        return
    match = _KEYED.match(path)
    if match and Path(match["file"]).exists():
        return
    raise VolsegError(f"{what} {path} does not exist.")


def format_layers(layer_data) -> str:
    """One line per layer: name, type, shape, voxel size, visibility."""
    lines = []
    for data, meta, layer_type in layer_data:
        level0 = data[0] if meta.get("multiscale") else data
        shape = "x".join(str(int(s)) for s in level0.shape)
        scale = "x".join(f"{v:g}" for v in meta["scale"])
        shown = "shown" if meta.get("visible", True) else "hidden"
        lines.append(f"{meta['name']:<16} {layer_type:<7} {shape:<16} {scale} nm  {shown}")
    return "\n".join(lines)


def view(
    paths: list[str] = typer.Argument(
        ...,
        help="Run directories, demo folders, OME-Zarr images / maps / labels, file.h5:key, tif.",
    ),
    gt: str | None = typer.Option(None, "--gt", help="Ground-truth labels (adds an errors layer)."),
    min_overlap: int = typer.Option(
        50, help="Errors layer: overlaps of at most this many voxels are not merges or splits."
    ),
    errors: bool = typer.Option(True, help="Add the errors layer when seg and gt are present."),
    widget: bool = typer.Option(
        True, help="Dock the re-decode widget when maps are loaded, else the segment widget."
    ),
    list_only: bool = typer.Option(
        False, "--list", help="Print the layers that would open, and exit (no window)."
    ),
) -> None:
    """Open volseg outputs in napari: raw, pred/*, seg, gt and errors layers."""
    for path in paths:
        check_exists(path)
    if gt is not None:
        check_exists(gt, what="--gt")
    if min_overlap < 0:
        raise VolsegError(f"--min-overlap must be >= 0, got {min_overlap}.")
    from volseg.napari.reader import read_paths

    layer_data, notes = read_paths(
        paths, gt=gt, errors=errors, min_overlap=min_overlap, with_notes=True
    )
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    if list_only:
        typer.echo(format_layers(layer_data))
        return
    from volseg.napari import prefer_supported_qt

    prefer_supported_qt()
    import napari

    from volseg.napari.layers import PRED_ROLES, add_layers

    viewer = napari.Viewer(title="volseg view")
    add_layers(viewer, layer_data)
    roles = {meta["metadata"]["volseg"]["role"] for _, meta, _ in layer_data}
    if widget and roles & set(PRED_ROLES):
        from volseg.napari._widget import RedecodeWidget

        viewer.window.add_dock_widget(RedecodeWidget(viewer), name="volseg re-decode")
    elif widget and "raw" in roles and "seg" not in roles:  # an image alone: segment it
        from volseg.napari._segment_widget import SegmentWidget

        viewer.window.add_dock_widget(SegmentWidget(viewer), name="volseg segment")
    napari.run()


def register(app: typer.Typer) -> None:
    app.command("view")(view)
