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

import sys
import types
from typing import Any

from volseg._lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _HOME)


class _Package(types.ModuleType):
    """``predict``, ``segment`` and ``blockwise_decode`` name both a submodule and the function
    in it; importing the submodule (``from volseg.infer.predict import ...``) would make the
    package attribute the module, so ``from volseg.infer import predict`` later returned a
    module. Keep the function there instead (pickle and ``sys.modules`` still find the
    submodule)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if _HOME.get(name) == f"{__name__}.{name}" and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
