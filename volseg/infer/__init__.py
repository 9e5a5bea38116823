"""Prediction of whole volumes: sliding window + TTA, streamed to zarr, blockwise on Dask.

``predict(cfg, checkpoint, image, out)`` writes the maps ``(c, z, y, x)`` of a volume;
``predict_array`` predicts an in-memory array; ``get_client`` makes a Dask client from
``--cluster local:N`` / ``--scheduler ADDR``; ``blockwise_decode`` decodes maps block by
block; ``segment`` runs predict + decode + evaluate into one OME-Zarr.

The names are imported on first use (PEP 562), so that importing a submodule, as every
blockwise decoding worker does when it unpickles its task, does not import torch: a decode
worker then starts in about a tenth of the time and memory (``benchmarks/blockwise.py``).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "TTA": "volseg.infer.tta",
    "View": "volseg.infer.tta",
    "make_tta": "volseg.infer.tta",
    "SlidingSettings": "volseg.infer.sliding",
    "predict_array": "volseg.infer.sliding",
    "predict_streamed": "volseg.infer.sliding",
    "get_client": "volseg.infer.cluster",
    "predict": "volseg.infer.predict",
    "blockwise_decode": "volseg.infer.blockwise_decode",
    "segment": "volseg.infer.segment",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'volseg.infer' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])
