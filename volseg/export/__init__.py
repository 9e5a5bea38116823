"""Export a trained model for use outside volseg.

``export_model(source, out, fmt="bioimageio")`` writes a BioImage Model Zoo package (spec 0.5)
of a run directory or checkpoint (:mod:`volseg.export.bioimageio`). The names are imported on
first use (PEP 562): ``bioimageio.spec`` and torch load only when an export runs.
"""

from __future__ import annotations

from volseg._lazy import lazy_exports

_HOME = {
    "FORMATS": "volseg.export.run",
    "export_model": "volseg.export.run",
    "export_bioimageio": "volseg.export.bioimageio",
    "check_package": "volseg.export.validate",
}

__all__ = sorted(_HOME)


__getattr__, __dir__ = lazy_exports(__name__, _HOME)
