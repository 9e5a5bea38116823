"""Shared pieces of the prediction tests: a tiny config, its checkpoint, a small image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from volseg.checkpoint import save_checkpoint
from volseg.config import loads
from volseg.io import write_volume
from volseg.models import build

# A tiny 3-output rsunet (binary, boundary, distance) with 8x32x32 windows.
CONFIG = """
model:
  architecture: rsunet
  filters: [4, 8]
  input_size: [8, 32, 32]
  norm: group
data:
  image_transform: {normalize: zscore, clip_percentile_low: 0.01, clip_percentile_high: 0.99}
inference:
  sliding_window: {overlap: 0.5, sw_batch_size: 2}
  block_shape: [16, 64, 64]
system:
  inference: {num_gpus: 0}
"""


def tiny_config(*overrides: str):
    return loads(CONFIG, list(overrides))


def tiny_checkpoint(path: Path, cfg, *, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    model = build(cfg.model)
    with torch.no_grad():  # a non-trivial network: random biases too
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return save_checkpoint(path, model=model, model_cfg=cfg.model, config=cfg, epoch=0, step=0)


def tiny_image(shape=(20, 50, 70), *, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    smooth = 100 + 60 * np.sin(z / 3.0) * np.cos(y / 5.0) + 40 * np.sin(x / 7.0)
    return np.clip(smooth + rng.normal(0, 10, shape), 0, 255).astype(np.uint8)


def write_image(path: Path, image: np.ndarray, voxel_size=(10.0, 5.0, 5.0)) -> str:
    write_volume(path, image, voxel_size=voxel_size, chunks=(8, 32, 32), levels=1)
    return str(path)


#: A ``cc`` decoder override for the command-line tests of segment and test.
CC = "test.decoding=[{name: cc, kwargs: {threshold: 0.5, connectivity: 6}}]"


def command_files(root: Path, checkpoint: Path) -> tuple[Path, str, str, str]:
    """The tiny config, a checkpoint at ``checkpoint``, an image and its ground truth
    (``root/gt.zarr``): ``(root, config, checkpoint, image)`` for the command-line tests."""
    from volseg.decode.postprocess import connected_components

    config = root / "tiny.yaml"
    config.write_text(CONFIG)
    tiny_checkpoint(checkpoint, tiny_config())
    image = tiny_image()
    write_volume(root / "gt.zarr", connected_components(image > 150, connectivity=6),
                 voxel_size=(10.0, 5.0, 5.0), levels=1)  # fmt: skip
    return root, str(config), str(checkpoint), write_image(root / "image.zarr", image)
