"""Shipped models: trained networks that come with volseg, usable the minute it is installed.

Each model is a folder of this package laid out like a run directory, so every command that
takes a run takes it too: ``config.yaml`` (the resolved training config, data paths removed),
``checkpoints/best.pt`` (the validated weights only), ``checkpoints/thresholds.json`` (decoder
settings from a sweep), ``card.json`` (machine-readable facts) and ``MODEL_CARD.md`` (data,
resolution, training time and hardware, held-out scores, the data's terms and citation).
Models are made by scripts in the repository (``scripts/ship_lucchi_mito.py``) that anyone can
rerun.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from volseg.errors import VolsegError

ROOT = Path(__file__).resolve().parent
CONFIG = "config.yaml"
WEIGHTS = Path("checkpoints") / "best.pt"
THRESHOLDS = Path("checkpoints") / "thresholds.json"
CARD = "card.json"
MODEL_CARD = "MODEL_CARD.md"

__all__ = ["card", "names", "run_dir", "weights", "config"]


def names() -> list[str]:
    """Names of the shipped models (folders holding a config and weights), sorted."""
    return sorted(
        p.name for p in ROOT.iterdir() if (p / CONFIG).is_file() and (p / WEIGHTS).is_file()
    )


def run_dir(name: str) -> Path:
    """The folder of shipped model ``name`` (laid out like a run directory).

    Raises:
        VolsegError: no model of that name ships with this volseg.
    """
    if name not in names():
        shipped = ", ".join(names()) or "none"
        raise VolsegError(
            f"no shipped model is named {name!r} (shipped: {shipped}; `volseg models list`)."
        )
    return ROOT / name


def config(name: str) -> Path:
    """The shipped model's config file."""
    return run_dir(name) / CONFIG


def weights(name: str) -> Path:
    """The shipped model's checkpoint (``checkpoints/best.pt``)."""
    return run_dir(name) / WEIGHTS


def card(name: str) -> dict[str, Any]:
    """The shipped model's ``card.json``: task, data, voxel size, training, held-out scores."""
    return json.loads((run_dir(name) / CARD).read_text())
