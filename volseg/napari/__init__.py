"""napari plugin (npe2) for volseg outputs, and the logic behind ``volseg view``.

The pure modules (``discover``, ``layers``, ``errors_layer``, ``reader``, ``writer``,
``sample_data``, ``redecode``) import neither Qt nor napari's GUI; the dock widget lives in
``_widget``. The manifest is ``napari.yaml`` beside this file, registered through the
``napari.manifest`` entry point.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

MANIFEST = Path(__file__).with_name("napari.yaml")
#: The Qt binding volseg asks qtpy for when the user named none: napari deprecates PyQt5
#: (removal announced for fall 2026), and qtpy would pick PyQt5 first when both are installed.
QT_BINDING = "pyqt6"

__all__ = ["MANIFEST", "QT_BINDING", "prefer_supported_qt"]


def prefer_supported_qt() -> str | None:
    """Set ``QT_API`` to :data:`QT_BINDING` when it is unset and PyQt6 is installed (before
    qtpy is first imported; the ``volseg[gui]`` extra installs PyQt6). Returns ``QT_API``."""
    if "QT_API" not in os.environ and importlib.util.find_spec("PyQt6") is not None:
        os.environ["QT_API"] = QT_BINDING
    return os.environ.get("QT_API")
