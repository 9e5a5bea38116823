"""npe2 reader: volseg outputs (OME-Zarr images, maps, labels, run and demo folders).

``get_reader(path)`` answers ``None`` for anything it cannot show (napari then tries other
readers) and never raises; the function it returns builds the layers of
:mod:`volseg.napari.layers`, raising :class:`~volseg.errors.VolsegError` only for a volseg
output that turns out to be broken while reading.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from volseg.napari.discover import Found, discover, is_run_folder, is_zarr_store
from volseg.napari.errors_layer import DEFAULT_MIN_OVERLAP
from volseg.napari.layers import LayerData, build_layers

PathOrPaths = str | os.PathLike | Sequence[str | os.PathLike]


def read_paths(
    paths: Sequence[str | os.PathLike],
    *,
    gt: str | os.PathLike | None = None,
    errors: bool = True,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    with_notes: bool = False,
) -> Any:
    """Layer data of several paths shown together, with an optional ground truth.

    With ``gt`` given, the ground truth found inside the paths is replaced by it. With
    ``with_notes``, returns ``(layer data, notes)``: the notes say which recorded inputs
    (an output's image or ground truth, by path) did not open.

    Raises:
        VolsegError: a path that does not exist or holds nothing to show.
    """
    from volseg.napari.discover import item_of

    found = Found()
    for path in paths:
        found.extend(discover(path))
    if gt is not None:
        found.items = [i for i in found.items if i.role != "gt"]
        found.items.append(item_of(str(gt), role="gt"))
    layers = build_layers(found, errors=errors, min_overlap=min_overlap)
    return (layers, found.notes) if with_notes else layers


def _candidate(path: str) -> bool:
    """Cheap test before any metadata is read: a zarr store or a volseg run folder."""
    local = Path(path)
    return is_zarr_store(local) or is_run_folder(local)


def get_reader(path: PathOrPaths) -> Callable[[Any], list[LayerData]] | None:
    """The npe2 ``get_reader`` hook: a reader function, or None when ``path`` is not ours."""
    paths = [os.fspath(path)] if isinstance(path, str | os.PathLike) else list(path)
    try:
        if not paths or not all(_candidate(os.fspath(p)) for p in paths):
            return None
        found = Found()
        for p in paths:
            found.extend(discover(os.fspath(p)))
    except Exception:  # a reader hook answers None for anything unreadable, never raises
        return None
    if not found.items:
        return None

    def read(_path: Any = None) -> list[LayerData]:
        return build_layers(found)

    return read
