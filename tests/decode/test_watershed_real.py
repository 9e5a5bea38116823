"""Real EM labels (neuroproof): plateau-rich uint8 maps and float maps against scikit-image."""

from pathlib import Path

import cc3d
import edt
import fastremap
import h5py
import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.metrics import adapted_rand_error
from skimage.segmentation import watershed as sk_watershed

from volseg.decode import watershed
from volseg.decode.watershed import quantise_height

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
VOLUME = DATA / "neuroproof_training_sample2" / "volume.h5"


@pytest.fixture(scope="module")
def neuroproof_map():
    """(height, markers, mask) from a 32x128x128 crop of the dense neuron labels.

    height = 1 - per-instance EDT normalised by the instance's maximum, smoothed, plus a little
    noise; markers = 6-connected components of the cores (normalised distance > 0.6).
    """
    with h5py.File(VOLUME, "r") as f:
        labels = f["labels"][100:132, 60:188, 60:188]
    dist = edt.edt(labels, black_border=False)
    ids, inverse = np.unique(labels, return_inverse=True)
    peak = np.zeros(ids.size)
    np.maximum.at(peak, inverse.ravel(), dist.ravel())
    peak = peak[inverse.reshape(labels.shape)]
    norm = np.where(peak > 0, dist / np.maximum(peak, 1e-9), 0.0)
    rng = np.random.default_rng(0)
    height = ndi.gaussian_filter(1.0 - norm, 1.0) + rng.normal(0, 0.01, labels.shape)
    markers = cc3d.connected_components(norm > 0.6, connectivity=6)
    markers = fastremap.refit(markers)
    return height.astype(np.float32), markers, labels > 0


def test_exact_mode_equals_skimage_on_real_map(neuroproof_map):
    height, markers, _ = neuroproof_map
    assert markers.max() > 50
    expected = sk_watershed(height, markers)
    got = watershed(height, markers)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("connectivity", [1, 3])
def test_fast_mode_on_uint8_plateaus_agrees_with_skimage(neuroproof_map, connectivity):
    height, markers, mask = neuroproof_map
    q = quantise_height(height)
    assert np.unique(q).size <= 256
    expected = sk_watershed(q, markers, mask=mask, connectivity=connectivity)
    got = watershed(q, markers, mask=mask, connectivity=connectivity)
    agree = (got == expected).mean()
    are = adapted_rand_error(expected, got, ignore_labels=(0,))[0]
    assert agree >= 0.999, agree
    assert are <= 1e-3, are


def test_parallel_equals_serial_on_real_map(neuroproof_map):
    height, markers, _ = neuroproof_map
    mask = height < 0.8  # membranes out: the volume splits into many components
    for h in (height, quantise_height(height)):
        serial = watershed(h, markers, mask=mask)
        np.testing.assert_array_equal(watershed(h, markers, mask=mask, parallel=True), serial)
