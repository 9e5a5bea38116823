"""Synthetic vesicle volumes: instances, coverage, contrast, determinism, missing sections."""

import cc3d
import numpy as np
import pytest
from scipy import ndimage

from volseg.data.synth import vesicles
from volseg.errors import VolsegError

SMALL = {"shape": (24, 128, 128)}


@pytest.fixture(scope="module")
def default_volume():
    return vesicles()


def test_default_volume_instances_and_coverage(default_volume):
    raw, labels, mask = default_volume
    assert raw.shape == labels.shape == mask.shape == (64, 256, 256)
    assert (raw.dtype, labels.dtype, mask.dtype) == (np.uint8, np.uint32, bool)
    ids, sizes = np.unique(labels[labels > 0], return_counts=True)
    assert len(ids) > 50
    np.testing.assert_array_equal(ids, np.arange(1, len(ids) + 1))  # ids 1..N
    assert sizes.min() >= 150 and sizes.max() <= 1500, (sizes.min(), sizes.max())
    assert abs((labels > 0).mean() - 0.02) <= 0.005
    # every id is one 6-connected blob (touching vesicles keep separate ids)
    assert cc3d.connected_components(labels, connectivity=6).max() == len(ids)
    assert mask.all()


def test_rims_are_darker_than_lumen_and_background(default_volume):
    raw, labels, _ = default_volume
    fg = labels > 0
    # rim: vesicle voxels with an outside voxel among their in-plane 8 neighbours
    rim = fg & ~ndimage.binary_erosion(fg, structure=np.ones((1, 3, 3)), border_value=1)
    lumen = ndimage.binary_erosion(fg, structure=np.ones((1, 5, 5)))
    background = ~ndimage.binary_dilation(fg, structure=np.ones((3, 7, 7)))
    means = {
        name: raw[m].mean() for name, m in [("rim", rim), ("lumen", lumen), ("bg", background)]
    }
    assert means["rim"] < means["bg"] - 20, means
    assert means["lumen"] > means["bg"] + 20, means
    assert 130 < means["bg"] < 150, means


def test_same_seed_same_bytes_other_seed_differs():
    a = vesicles(seed=3, **SMALL)
    b = vesicles(seed=3, **SMALL)
    c = vesicles(seed=4, **SMALL)
    for x, y in zip(a, b, strict=True):
        assert x.tobytes() == y.tobytes()
    assert a[0].tobytes() != c[0].tobytes()
    assert a[1].tobytes() != c[1].tobytes()


def test_missing_sections_blank_whole_slices_and_keep_labels():
    raw0, lab0, _ = vesicles(seed=1, **SMALL)
    raw, lab, mask = vesicles(seed=1, missing_sections=3, **SMALL)
    gone = np.flatnonzero(~mask.any(axis=(1, 2)))
    assert len(gone) == 3
    assert np.all(mask[np.setdiff1d(np.arange(24), gone)])  # the other slices are fully valid
    assert np.all(raw[gone] == 0)
    np.testing.assert_array_equal(lab, lab0)
    keep = np.setdiff1d(np.arange(24), gone)
    np.testing.assert_array_equal(raw[keep], raw0[keep])


def test_density_and_clean_image():
    raw, labels, _ = vesicles(density=0.01, blur_nm=0, noise=0, poisson_gain=0, **SMALL)
    assert abs((labels > 0).mean() - 0.01) <= 0.004
    deep = ndimage.binary_erosion(labels > 0, structure=np.ones((3, 7, 7)))
    if deep.any():
        assert raw[deep].mean() > 165  # lumen = cytoplasm 140 + 40 (+- texture)


def test_anisotropic_size_follows_voxel_size():
    # the same physical vesicles at 2x finer z sampling hold about 2x the voxels
    _, coarse, _ = vesicles(seed=2, shape=(24, 128, 128), voxel_size=(30, 8, 8))
    _, fine, _ = vesicles(seed=2, shape=(48, 128, 128), voxel_size=(15, 8, 8))
    ratio = np.median(np.bincount(fine.ravel())[1:]) / np.median(np.bincount(coarse.ravel())[1:])
    assert 1.6 < ratio < 2.4, ratio


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shape": (24, 128)}, "shape must be three positive integers"),
        ({"shape": (24, 0, 128)}, "shape must be three positive integers"),
        ({"shape": (24, 128.5, 128)}, "shape must be three positive integers"),
        ({"shape": (5, 40, 40)}, r"too small .* needs at least \(9, 31, 31\)"),
        ({"voxel_size": (30, -8, 8)}, "voxel_size must be three positive"),
        ({"density": 0}, "density must be a positive number"),
        ({"density": 0.5}, r"density must be in \(0, 0.25\]"),
        ({"missing_sections": 24}, r"missing_sections must be in \[0, 23\]"),
        ({"missing_sections": -1}, "missing_sections must be in"),
        ({"missing_sections": 1.0}, "missing_sections must be an integer"),
        ({"radius_nm": (60, 50)}, "min <= max"),
        ({"radius_nm": 5}, "radius_nm must be two positive numbers"),
        ({"elongation": 0.5}, "elongation must be >= 1"),
        ({"touching": 1.5}, r"touching must be in \[0, 1\]"),
        ({"noise": -1}, "noise must be a number >= 0"),
        ({"seed": -1}, "seed must be an integer >= 0"),
        ({"seed": None}, "seed must be an integer >= 0"),
        ({"shape": (12, 40, 40), "density": 0.25}, "could not place vesicles up to density 0.25"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {**SMALL, **kwargs}
    with pytest.raises(VolsegError, match=match):
        vesicles(**args)


def test_numpy_scalars_are_accepted():
    a = vesicles(density=np.float32(0.02), seed=np.int64(3), missing_sections=np.int64(1), **SMALL)
    b = vesicles(density=0.02, seed=3, missing_sections=1, **SMALL)
    assert a[0].tobytes() == b[0].tobytes()
