"""Shared fixtures and an obviously-correct pair counter for the metrics tests."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
NEUROPROOF = DATA / "neuroproof_training_sample2" / "volume.h5"


def count_pairs(seg, gt, mask=None) -> dict[tuple[int, int], int]:
    """Reference contingency: a Python Counter over every voxel (slow, obviously correct)."""
    seg, gt = np.asarray(seg).ravel(), np.asarray(gt).ravel()
    keep = np.ones(seg.size, bool) if mask is None else np.asarray(mask).ravel().astype(bool)
    return dict(Counter(zip(seg[keep].tolist(), gt[keep].tolist(), strict=True)))


def random_labels(rng, shape, n, *, offset=0, dtype=np.uint32, blocky=True):
    """Random labels 0..n-1 (+offset on non-zero ids); blocky ones have runs along x."""
    if blocky:
        coarse = rng.integers(0, n, (shape[0], shape[1], max(1, shape[2] // 3)))
        lab = np.repeat(coarse, 3, axis=2)[..., : shape[2]]
        lab = np.pad(lab, ((0, 0), (0, 0), (0, shape[2] - lab.shape[2])), mode="edge")
    else:
        lab = rng.integers(0, n, shape)
    lab = lab.astype(np.uint64)
    lab[lab > 0] += np.uint64(offset)
    return lab.astype(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def compact(labels):
    """Same partition with ids 0..n (0 stays 0): skimage's dense tables need small ids."""
    labels = np.asarray(labels)
    ids = np.unique(np.concatenate([[0], labels.ravel()]))
    return np.searchsorted(ids, labels).astype(np.int64)
