"""Volumes whose labels are a function of position, and the alignment check used by every
geometric transform test."""

import numpy as np
from scipy import ndimage


def block_volume(shape=(12, 40, 48), block=(4, 8, 8), *, dtype=np.uint32):
    """labels: a unique id per block (1..n); image: labels as float; mask: id % 3 != 0."""
    grids = np.meshgrid(
        *(np.arange(n) // b for n, b in zip(shape, block, strict=True)), indexing="ij"
    )
    counts = [-(-n // b) for n, b in zip(shape, block, strict=True)]
    labels = (np.ravel_multi_index(grids, counts) + 1).astype(dtype)
    return labels.astype(np.float32), labels, labels % 3 != 0


def check_aligned(image, labels, mask, ids, *, min_agree=0.99):
    """Mask and image still agree with the labels after a geometric transform (a chain of
    interpolating warps blurs block edges a little more: lower ``min_agree`` for those)."""
    assert image.dtype == np.float32 and mask.dtype == bool
    assert image.shape == labels.shape == mask.shape
    assert set(np.unique(labels)) <= set(ids.tolist()), "labels gained new ids"
    # labels and mask went through the same nearest-neighbour lookup: exactly consistent
    np.testing.assert_array_equal(mask, labels % 3 != 0)
    # where every neighbour has the same id the linear image reads that one id
    footprint = np.ones((3, 3, 3), bool)
    flat = ndimage.maximum_filter(labels, footprint=footprint) == ndimage.minimum_filter(
        labels, footprint=footprint
    )
    assert flat.sum() > 0.2 * labels.size
    agree = np.isclose(image[flat], labels[flat].astype(np.float32), rtol=1e-5, atol=1e-3)
    assert agree.mean() > min_agree, agree.mean()


def rng(seed=0):
    return np.random.default_rng(seed)
