"""Two tiny configs of different architectures on one synthetic volume, for compare tests."""

from __future__ import annotations

from pathlib import Path

from tests.train.helpers import tiny_text

#: Whole-region validation every epoch, so ``val/map_fg_iou`` (``val_iou``) is logged.
FULL_VAL = "full_val_every_n_epochs: 0"


def write_configs(volume: Path, folder: Path) -> tuple[Path, Path]:
    """``rsunet.yaml`` (rsunet [4, 8]) and ``attention.yaml`` (attention_unet [4, 8])."""
    text = tiny_text(volume).replace(FULL_VAL, "full_val_every_n_epochs: 1")
    rsunet = folder / "rsunet.yaml"
    rsunet.write_text(text.replace("experiment_name: tiny", "experiment_name: tiny_rsunet"))
    attention = folder / "attention.yaml"
    attention.write_text(
        text.replace("experiment_name: tiny", "experiment_name: tiny_attention")
        .replace("architecture: rsunet", "architecture: attention_unet")
        .replace("  num_2d_levels: 1\n", "")
    )
    return rsunet, attention
