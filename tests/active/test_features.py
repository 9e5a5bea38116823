"""Feature memory is bounded: one pooled vector per region, whatever the region or pool size."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from tests.active.conftest import LAYER, real_raw
from volseg.active.features import PooledFeatures, find_layer
from volseg.errors import VolsegError


def _predictor(tiny, raw):
    from volseg.active.rank import Predictor
    from volseg.infer.predict import open_image
    from volseg.io import Volume

    cfg, ckpt = tiny
    volume, name = open_image(cfg, Volume(raw, voxel_size=(5, 5, 5)))
    return Predictor(cfg, ckpt, volume, name)


def test_one_vector_per_region_whatever_its_size(tiny):
    predictor = _predictor(tiny, real_raw())
    hook = PooledFeatures(find_layer(predictor.model, LAYER))
    try:
        predictor.foreground((0, 8, 0, 32, 0, 32))
        small = hook.take()
        predictor.foreground((0, 32, 0, 192, 0, 192))
        large = hook.take()
    finally:
        hook.remove()
    assert small.shape == large.shape == (8,)  # the layer's channels
    assert small.dtype == np.float32 and not np.array_equal(small, large)
    with pytest.raises(VolsegError, match="did you mean net.encoders.1"):
        find_layer(predictor.model, "net.encoder.1")


def _features_and_peak(predictor):
    from volseg.active.rank import score_regions
    from volseg.active.regions import tile

    boxes = tile(predictor.shape, (16, 64, 64))
    tracemalloc.start()
    try:
        layer = find_layer(predictor.model, LAYER)
        _, features = score_regions(predictor, boxes, "diversity", layer=layer)
        return features, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_feature_memory_stays_flat_as_the_pool_grows(tiny):
    """Features and scores of 4 and of 16 regions of 16 x 64 x 64 (the model built before
    tracing): the feature matrix is (regions, 8) and the peak traced memory grows by far less
    than one region's maps per added region (one region's maps are 16 x 64 x 64 x 4 B)."""
    raw = real_raw((16, 128, 512))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        small, peak_small = _features_and_peak(_predictor(tiny, raw[:, :, :128].copy()))
        large, peak_large = _features_and_peak(_predictor(tiny, raw))
    finally:
        torch.set_num_threads(threads)
    assert small.shape == (4, 8) and large.shape == (16, 8)
    one_region = 16 * 64 * 64 * 4
    assert peak_large - peak_small < one_region // 4, (peak_small, peak_large)
