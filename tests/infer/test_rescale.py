"""Resampling between data and network grids: like training, and the same crop by crop."""

import itertools

import numpy as np
import pytest
from scipy import ndimage

from volseg.data.resample import resample_image
from volseg.errors import VolsegError
from volseg.infer.rescale import make_rescale, net_reader


def whole(shape):
    return tuple(slice(0, n) for n in shape)


def crops(shape, step):
    for starts in itertools.product(*(range(0, n, s) for n, s in zip(shape, step, strict=True))):
        yield tuple(slice(a, min(a + s, n)) for a, s, n in zip(starts, step, shape, strict=True))


def test_area_mode_equals_the_training_resampler():
    image = np.random.default_rng(0).random((8, 24, 36), dtype=np.float32)
    rescale = make_rescale(image.shape, (10, 5, 5), (20, 10, 15))
    assert rescale.area and rescale.net_shape == (4, 12, 12)
    ours = rescale.image_to_net(image[None], whole(image.shape), whole(rescale.net_shape))[0]
    np.testing.assert_allclose(ours, resample_image(image, (4, 12, 12)), rtol=1e-6)


def test_area_mode_pads_a_partial_last_block_with_edge_values():
    image = np.arange(5, dtype=np.float32).reshape(5, 1, 1) * np.ones((1, 2, 2), np.float32)
    rescale = make_rescale(image.shape, (5, 5, 5), (10, 10, 10))
    out = rescale.image_to_net(image[None], whole(image.shape), whole(rescale.net_shape))[0]
    np.testing.assert_allclose(out[:, 0, 0], [0.5, 2.5, 4.0])


@pytest.mark.parametrize(
    ("data", "net"), [((10, 5, 5), (20, 10, 10)), ((10, 4, 4), (10, 10, 6)), ((5, 5, 5), (4, 4, 3))]
)
def test_image_crops_equal_the_whole_volume(data, net):
    image = np.random.default_rng(1).random((2, 17, 29, 23), dtype=np.float32)
    rescale = make_rescale(image.shape[1:], data, net)
    full = rescale.image_to_net(image, whole(image.shape[1:]), whole(rescale.net_shape))
    read = net_reader(rescale, lambda region: image[(slice(None), *region)])
    for crop in crops(rescale.net_shape, (3, 7, 5)):
        np.testing.assert_allclose(read(crop), full[(slice(None), *crop)], rtol=0, atol=1e-6)


@pytest.mark.parametrize(("data", "net"), [((10, 5, 5), (20, 10, 10)), ((10, 4, 4), (10, 10, 6))])
def test_map_crops_equal_the_whole_volume(data, net):
    shape = (17, 29, 23)
    rescale = make_rescale(shape, data, net)
    maps = np.random.default_rng(2).random((3, *rescale.net_shape), dtype=np.float32)
    full = rescale.maps_to_data(maps, whole(rescale.net_shape), whole(shape))
    assert full.shape == (3, *shape)
    for crop in crops(shape, (4, 6, 9)):
        support = rescale.maps_support(crop)
        part = rescale.maps_to_data(maps[(slice(None), *support)], support, crop)
        np.testing.assert_allclose(part, full[(slice(None), *crop)], rtol=0, atol=1e-6)


def test_linear_mode_is_interpolation_at_voxel_centres():
    shape = (6, 20, 30)
    rescale = make_rescale(shape, (10, 4, 4), (10, 10, 6))
    assert not rescale.area and rescale.net_shape == (6, 8, 20)
    maps = np.random.default_rng(3).random((1, *rescale.net_shape), dtype=np.float32)
    ours = rescale.maps_to_data(maps, whole(rescale.net_shape), whole(shape))[0]
    coords = np.meshgrid(*[(np.arange(n) + 0.5) * (d / t) - 0.5
                           for n, d, t in zip(shape, (10, 4, 4), (10, 10, 6), strict=True)],
                         indexing="ij")  # fmt: skip
    ref = ndimage.map_coordinates(maps[0], coords, order=1, mode="nearest")
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_identity_and_bad_input():
    rescale = make_rescale((4, 5, 6), (5, 5, 5), None)
    assert rescale.identity and rescale.net_shape == (4, 5, 6)
    with pytest.raises(VolsegError, match="positive voxel sizes"):
        make_rescale((4, 5, 6), (5, 5, 5), (0, 10, 10))
