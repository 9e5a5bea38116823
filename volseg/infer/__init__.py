"""Prediction of whole volumes: sliding window + TTA, streamed to zarr, blockwise on Dask.

``predict(cfg, checkpoint, image, out)`` writes the maps ``(c, z, y, x)`` of a volume;
``predict_array`` predicts an in-memory array; ``get_client`` makes a Dask client from
``--cluster local:N`` / ``--scheduler ADDR``.
"""

from volseg.infer.cluster import get_client
from volseg.infer.predict import predict
from volseg.infer.sliding import SlidingSettings, predict_array, predict_streamed
from volseg.infer.tta import TTA, View, make_tta

__all__ = [
    "TTA",
    "SlidingSettings",
    "View",
    "get_client",
    "make_tta",
    "predict",
    "predict_array",
    "predict_streamed",
]

# Blockwise decoding with stitching, and predict + decode + evaluate in one OME-Zarr.
from volseg.infer.blockwise_decode import blockwise_decode  # noqa: E402
from volseg.infer.segment import segment  # noqa: E402

__all__ += ["blockwise_decode", "segment"]
