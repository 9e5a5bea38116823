"""``build_augmentation``: preset and switches, anisotropy rule, the whole pipeline aligned."""

import copy
import functools

import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.data.augment.common import block_volume, check_aligned, rng
from volseg.config import loads
from volseg.data.augment import build_augmentation
from volseg.errors import VolsegError

ANISO = (30.0, 8.0, 8.0)


@functools.cache
def _defaults():
    return OmegaConf.to_container(loads("").data.augmentation)


def aug_cfg(preset="some", **switches):
    """A plain ``data.augmentation`` dict: defaults, ``preset``, then per-transform updates."""
    cfg = copy.deepcopy(_defaults())
    cfg["preset"] = preset
    for name, update in switches.items():
        cfg[name].update(update)
    return cfg


def test_presets_and_switches():
    assert build_augmentation(aug_cfg("none"), voxel_size=ANISO).names == ()
    # a loaded (OmegaConf) section works as well as a plain dict
    loaded = loads("data: {augmentation: {preset: some}}").data.augmentation
    some = build_augmentation(loaded, voxel_size=ANISO)
    assert some.names == ("flip", "rotate90", "intensity")
    mixed = aug_cfg("some", flip={"enabled": False}, cutout={"enabled": True})
    assert build_augmentation(mixed, voxel_size=ANISO).names == ("rotate90", "intensity", "cutout")
    every = build_augmentation(aug_cfg("all"), voxel_size=ANISO)
    assert len(every.names) == 10 and "subvoxel_shift" in every.names
    only = aug_cfg("none", elastic={"enabled": True})
    assert build_augmentation(only, voxel_size=ANISO).names == ("elastic",)


def test_rotate90_refuses_anisotropic_plane():
    cfg = aug_cfg("some", rotate90={"spatial_axes": [0, 1]})
    with pytest.raises(VolsegError, match=r"z-y plane.*30.0 x 8.0 nm"):
        build_augmentation(cfg, voxel_size=ANISO)
    assert build_augmentation(cfg, voxel_size=(8, 8, 8)).names  # isotropic: fine


def test_none_is_identity():
    image, labels, mask = block_volume()
    aug = build_augmentation(aug_cfg("none"), voxel_size=ANISO)
    for a, b in zip(aug(image, labels, mask, rng()), (image, labels, mask), strict=True):
        np.testing.assert_array_equal(a, b)


def test_all_geometric_at_prob_one_stay_aligned_and_deterministic():
    on = {"enabled": True, "prob": 1.0}
    cfg = aug_cfg("none", flip=on, rotate90=on, affine=on, elastic=on, misalignment=on)
    aug = build_augmentation(cfg, voxel_size=ANISO)
    image, labels, mask = block_volume((12, 48, 48), (4, 8, 8))
    for seed in range(3):
        img, lab, msk = aug(image, labels, mask, rng(seed))
        check_aligned(img, lab, msk, np.unique(labels), min_agree=0.85)
        assert img.flags.c_contiguous and lab.flags.c_contiguous and msk.flags.c_contiguous
        again = aug(image, labels, mask, rng(seed))
        for a, b in zip((img, lab, msk), again, strict=True):
            np.testing.assert_array_equal(a, b)


def test_everything_keeps_dtypes_and_shapes():
    aug = build_augmentation(aug_cfg("all"), voxel_size=ANISO)
    image, labels, mask = block_volume(dtype=np.uint16)
    for seed in range(4):
        img, lab, msk = aug(image, labels, mask, rng(seed))
        assert (img.dtype, lab.dtype, msk.dtype) == (np.float32, np.uint16, np.bool_)
        assert img.shape == lab.shape == msk.shape == image.shape
        assert set(np.unique(lab)) <= set(np.unique(labels))


def test_mismatched_shapes_are_an_error():
    aug = build_augmentation(aug_cfg("some"), voxel_size=ANISO)
    image, labels, mask = block_volume()
    with pytest.raises(VolsegError, match="one shape"):
        aug(image, labels[:, :-1], mask, rng())


@pytest.mark.parametrize(
    "name",
    [
        "flip",
        "rotate90",
        "affine",
        "elastic",
        "intensity",
        "misalignment",
        "missing_section",
        "motion_blur",
        "cutout",
    ],
)
def test_each_transform_alone_at_prob_one(name):
    """Deterministic from the rng, dtypes and shapes kept, no new ids; image-only transforms
    leave labels and mask as they were."""
    aug = build_augmentation(
        aug_cfg("none", **{name: {"enabled": True, "prob": 1.0}}), voxel_size=ANISO
    )
    assert aug.names == (name,)
    image, labels, mask = block_volume((12, 40, 40), dtype=np.uint16)
    a = aug(image, labels, mask, rng(11))
    b = aug(image, labels, mask, rng(11))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    img, lab, msk = a
    assert (img.dtype, lab.dtype, msk.dtype) == (np.float32, np.uint16, np.bool_)
    assert img.shape == lab.shape == msk.shape == image.shape
    assert set(np.unique(lab)) <= set(np.unique(labels))
    assert not np.array_equal(img, image)  # prob 1: something happened
    if name in ("intensity", "missing_section", "motion_blur", "cutout"):
        np.testing.assert_array_equal(lab, labels)
        np.testing.assert_array_equal(msk, mask)
    else:
        check_aligned(img, lab, msk, np.unique(labels))
