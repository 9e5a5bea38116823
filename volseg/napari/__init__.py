"""napari plugin (npe2) for volseg outputs, and the logic behind ``volseg view``.

The pure modules (``discover``, ``layers``, ``errors_layer``, ``reader``, ``writer``,
``sample_data``, ``redecode``) import neither Qt nor napari's GUI; the dock widget lives in
``_widget``. The manifest is ``napari.yaml`` beside this file, registered through the
``napari.manifest`` entry point.
"""

from __future__ import annotations

from pathlib import Path

MANIFEST = Path(__file__).with_name("napari.yaml")

__all__ = ["MANIFEST"]
