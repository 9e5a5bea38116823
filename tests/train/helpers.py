"""Shared pieces of the training tests: synthetic data and a tiny, fast config."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from volseg.config import loads
from volseg.data.synth import vesicles
from volseg.io import write_volume

VOXEL = (30.0, 8.0, 8.0)

TINY = """
experiment_name: tiny
system:
  training: {num_gpus: 0, num_cpus: 1, num_workers: 0, batch_size: 2}
  seed: 3
  deterministic: true
model:
  architecture: rsunet
  input_size: [8, 32, 32]
  out_channels: 3
  filters: [4, 8]
  num_2d_levels: 1
data:
  train_image: IMAGE
  train_label: LABEL
  val_region: 0.25
  pad_size: [0, 0, 0]
  iter_num_per_epoch: 4
  foreground_probability: 0.5
  augmentation: {preset: none}
optimization:
  max_epochs: 2
  optimizer: {lr: 0.001}
  scheduler: {name: none}
monitor:
  checkpoint: {monitor: val_loss, mode: min}
  full_val_every_n_epochs: 0
  logging: {every_n_steps: 1, tensorboard: false, figures_every_n_epochs: 0}
test:
  decoding:
    - name: contour_distance
      kwargs: {min_seed_size: 2, min_instance_size: 5}
"""


def make_volume(
    path: Path, *, shape: Sequence[int] = (32, 64, 64), empty: bool = False, seed: int = 1
) -> Path:
    """Write a synthetic vesicle OME-Zarr (image, labels/vesicles, labels/mask) at ``path``."""
    raw, labels, mask = vesicles(shape=tuple(shape), voxel_size=VOXEL, seed=seed, density=0.06)
    if empty:
        labels = np.zeros_like(labels)
    write_volume(path, raw, voxel_size=VOXEL, kind="image")
    write_volume(path, labels, voxel_size=VOXEL, kind="labels", key="labels/vesicles")
    write_volume(path, mask, voxel_size=VOXEL, kind="mask", key="labels/mask")
    return path


def tiny_text(volume: Path) -> str:
    """The tiny config YAML for ``volume``."""
    return TINY.replace("IMAGE", str(volume)).replace("LABEL", f"{volume}/labels/vesicles")


def tiny_config(volume: Path, *overrides: str):
    """A loaded tiny config (2 epochs of 2 steps, rsunet [4, 8], 8 x 32 x 32 patches)."""
    return loads(tiny_text(volume), list(overrides))
