"""Monitor names: aliases, direction, and values the run never computes."""

from __future__ import annotations

import pytest

from volseg.errors import VolsegError
from volseg.train.names import ALIASES, DIRECTION, resolve_monitor


def resolve(name: str, mode: str, *, every: int = 5, has_val: bool = True) -> str:
    return resolve_monitor(
        name, mode, key="monitor.checkpoint.monitor", full_val_every=every, has_val=has_val
    )


def test_aliases_and_full_names() -> None:
    assert resolve("val_loss", "min") == "val/patch_loss"
    assert resolve("val_iou", "max") == "val/map_fg_iou"
    assert resolve("val/fg_iou", "max") == "val/map_fg_iou"  # the old name of the map's IoU
    assert resolve("val/are", "min") == "val/are"
    assert resolve("train_loss", "min", every=0, has_val=False) == "train/epoch_loss"
    assert all(v in DIRECTION for v in ALIASES.values())


def test_errors() -> None:
    with pytest.raises(
        VolsegError, match=r"`monitor.checkpoint.monitor` 'val_lose' is not a logged"
    ):
        resolve("val_lose", "min")
    with pytest.raises(VolsegError, match="is better when larger but its mode is 'min'"):
        resolve("val_iou", "min")
    with pytest.raises(VolsegError, match="full_val_every_n_epochs` is 0"):
        resolve("val_iou", "max", every=0)
    with pytest.raises(VolsegError, match="needs validation data"):
        resolve("val_loss", "min", has_val=False)
