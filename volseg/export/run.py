"""``export_model``: one entry point for every export format."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from volseg.errors import VolsegError

#: Export formats, by ``--format`` name.
FORMATS = ("bioimageio",)


def export_model(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    fmt: str,
    image: str | None = None,
    card: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    say: Callable[[str], None] | None = None,
) -> Path:
    """Export ``source`` (a run directory or a checkpoint) as ``fmt`` to ``out``.

    Raises:
        VolsegError: an unknown format, and every refusal of the format's exporter.
    """
    if fmt not in FORMATS:
        raise VolsegError(f"unknown export format {fmt!r}; volseg exports: {', '.join(FORMATS)}.")
    from volseg.export.bioimageio import export_bioimageio

    return export_bioimageio(source, out, image=image, card=card, overwrite=overwrite, say=say)
