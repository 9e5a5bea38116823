"""Names of the values a run logs, and which of them a checkpoint or early stop may monitor.

Patch-level values come from random validation patches (``val/patch_*``); whole-region values
from a sliding-window prediction of every validation region, decoded and scored
(``val/are``, ``val/seg_fg_iou``, ``val/f1_50``, ``val/map_fg_iou`` ...; see
:mod:`volseg.train.full_val`). Configs may use the short PyTorch Connectomics style aliases
(``val_loss``, ``val_iou`` ...); ``val/fg_iou``, the old name of the map's foreground IoU, is an
alias of ``val/map_fg_iou``.
"""

from __future__ import annotations

from volseg.errors import VolsegError

TRAIN_LOSS = "train/epoch_loss"
PATCH_METRICS = ("val/patch_loss", "val/patch_soft_dice")
FULL_METRICS = (
    "val/are", "val/precision", "val/recall", "val/are_with_bg", "val/seg_fg_iou",
    "val/seg_fg_dice", "val/f1_50", "val/ap_50", "val/ap_75", "val/map_fg_iou",
    "val/voi_split", "val/voi_merge",
)  # fmt: skip

#: Whether a smaller (``min``) or larger (``max``) value is better.
DIRECTION: dict[str, str] = {
    TRAIN_LOSS: "min",
    "val/patch_loss": "min",
    "val/patch_soft_dice": "max",
    "val/are": "min",
    "val/precision": "max",
    "val/recall": "max",
    "val/are_with_bg": "min",
    "val/seg_fg_iou": "max",
    "val/seg_fg_dice": "max",
    "val/f1_50": "max",
    "val/ap_50": "max",
    "val/ap_75": "max",
    "val/map_fg_iou": "max",
    "val/voi_split": "min",
    "val/voi_merge": "min",
}
ALIASES: dict[str, str] = {
    "train_loss": TRAIN_LOSS,
    "val_loss": "val/patch_loss",
    "val_dice": "val/patch_soft_dice",
    "val_soft_dice": "val/patch_soft_dice",
    "val_are": "val/are",
    "val_precision": "val/precision",
    "val_recall": "val/recall",
    "val_iou": "val/map_fg_iou",
    "val_fg_iou": "val/map_fg_iou",
    "val/fg_iou": "val/map_fg_iou",
}


def resolve_monitor(name: str, mode: str, *, key: str, full_val_every: int, has_val: bool) -> str:
    """The logged name behind a ``monitor`` setting, checked against what the run computes.

    Args:
        name: the configured name (a logged name or an alias such as ``val_loss``).
        mode: the configured ``min`` / ``max``.
        key: the config key, for messages (``monitor.checkpoint.monitor``).
        full_val_every: ``monitor.full_val_every_n_epochs`` (0 = never).
        has_val: whether the split has validation regions.

    Raises:
        VolsegError: unknown name, a mode against the metric's direction, or a metric the run
            never computes.
    """
    resolved = ALIASES.get(name, name)
    if resolved not in DIRECTION:
        valid = ", ".join([*DIRECTION, *ALIASES])
        raise VolsegError(f"`{key}` {name!r} is not a logged value; valid: {valid}.")
    if DIRECTION[resolved] != mode:
        raise VolsegError(
            f"`{key}` {name!r} is better when {_better(resolved)} but its mode is {mode!r}; "
            f"set the mode to {DIRECTION[resolved]!r}."
        )
    if resolved != TRAIN_LOSS and not has_val:
        raise VolsegError(
            f"`{key}` {name!r} needs validation data, but the split has none; set "
            "`data.val_region` or `data.val_image`, or monitor 'train_loss'."
        )
    if resolved in FULL_METRICS and full_val_every == 0:
        raise VolsegError(
            f"`{key}` {name!r} is a whole-region score but `monitor.full_val_every_n_epochs` "
            "is 0 (never); set it to a positive number of epochs."
        )
    return resolved


def _better(name: str) -> str:
    return "smaller" if DIRECTION[name] == "min" else "larger"
