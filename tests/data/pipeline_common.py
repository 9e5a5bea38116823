"""Small h5 volumes and configs shared by the split / sampling / dataset / loader tests."""

import h5py
import numpy as np

from volseg.config import loads

MODEL = "model: {architecture: rsunet, filters: [8, 16], input_size: %s}\n"


def make_volume(shape=(24, 32, 32), *, seed=0, boxes=4):
    """``(raw uint8, labels uint32, mask bool)``: a few boxes with ids 1..boxes on noise."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.uint32)
    for i in range(1, boxes + 1):
        lo = [int(rng.integers(0, max(1, n - 4))) for n in shape]
        hi = [min(n, a + int(rng.integers(2, 6))) for a, n in zip(lo, shape, strict=True)]
        labels[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))] = i
    raw = (rng.integers(100, 200, shape) - 60 * (labels > 0)).astype(np.uint8)
    mask = np.ones(shape, bool)
    return raw, labels, mask


def write_h5(path, raw, labels, mask=None, *, chunks=(8, 16, 16)):
    with h5py.File(path, "w") as f:
        f.create_dataset(
            "raw", data=raw, chunks=tuple(min(c, n) for c, n in zip(chunks, raw.shape, strict=True))
        )
        f.create_dataset("labels", data=labels)
        if mask is not None:
            f.create_dataset("mask", data=mask.astype(np.uint8))
    return path


def config(tmp_path, files, *, patch=(4, 16, 16), mask=False, val=None, extra="", overrides=()):
    """A config training on ``files`` (h5 names in tmp_path), voxel size 8 nm."""
    images = [f"{f}:raw" for f in files]
    labels = [f"{f}:labels" for f in files]
    text = MODEL % list(patch)
    text += f"data:\n  train_image: {images}\n  train_label: {labels}\n  voxel_size: [8, 8, 8]\n"
    if mask:
        text += f"  train_mask: {[f'{f}:mask' for f in files]}\n"
    if val is not None:
        text += f"  val_region: {val}\n"
    text += extra
    return loads(text, list(overrides), base_dir=tmp_path)
