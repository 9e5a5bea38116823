"""Converters for PyTC augmentation, optimizer, scheduler and monitor keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from volseg.config.migrate.convert_train import _closest, is_2d
from volseg.config.migrate.rule import NO_FEATURE, SAME
from volseg.config.migrate.table import Report
from volseg.config.schema_data import AUGMENTATIONS, AugmentationConfig
from volseg.config.schema_run import OPTIMIZERS, SCHEDULER_KEYS

_AUG_FIELDS = {
    name: {f.name for f in dataclasses.fields(getattr(AugmentationConfig(), name))}
    for name in AUGMENTATIONS
}
#: PyTC transforms volseg lacks -> the closest volseg transform.
#: PyTC transform names that are a volseg transform under another name (same fields).
_AUG_ALIAS = {"slice_shift_z": "misalignment", "lost_section": "missing_section"}
_AUG_CLOSE = {"cut_blur": "motion_blur", "cut_noise": "intensity", "missing_parts": "cutout",
              "stripe": "intensity", "copy_paste": "", "mixup": ""}  # fmt: skip


def aug_enabled(key: str, value: Any, rep: Report) -> None:
    """PyTC's master switch: on is volseg's behaviour, off is preset none."""
    if value:
        rep.log(key, "dropped", "", f"{SAME}: volseg augments with every transform switched on")
        return
    rep.set("data.augmentation.preset", "none")
    for name in AUGMENTATIONS:
        rep.set(f"data.augmentation.{name}.enabled", False)
    rep.log(key, "converted", "data.augmentation.preset", "off = preset none, all switched off")


def aug_preset(key: str, value: Any, rep: Report) -> None:
    """PyTC's ``some`` means "only transforms set enabled" = volseg's ``none`` preset."""
    table = {"some": "none", "none": "none", "all": "all"}
    if str(value) in table:
        new = table[str(value)]
        rep.set("data.augmentation.preset", new)
        if new != value:
            rep.log(key, "converted", "data.augmentation.preset", f"PyTC's {value!r} switches "
                    "on only the transforms set enabled, which is volseg's 'none'")  # fmt: skip
        return
    rep.log(
        key,
        "untranslated",
        "data.augmentation.preset",
        f"profile {value!r} lives in PyTC's repository; set volseg's transforms",
    )


def aug_switch(key: str, value: Any, rep: Report) -> None:
    """``data.augmentation.<t>.enabled`` for transforms volseg has, else a row."""
    name = key.split(".")[2]
    if name in _AUG_ALIAS:
        to = f"data.augmentation.{_AUG_ALIAS[name]}.enabled"
        rep.set(to, value)
        rep.log(key, "renamed", to)
    elif name in AUGMENTATIONS:
        rep.set(key, value)
    elif not value:
        rep.log(key, "dropped", "", f"{SAME}: {name} is switched off (volseg has no {name})")
    else:
        near = _AUG_CLOSE.get(name, "")
        rep.log(
            key,
            "untranslated",
            f"data.augmentation.{near}" if near else "",
            f"volseg has no {name} transform",
        )


def aug_key(key: str, value: Any, rep: Report) -> None:
    """Other ``data.augmentation.<t>.<k>`` keys."""
    parts = key.split(".")
    name = parts[2]
    alias = _AUG_ALIAS.get(name)
    if alias and len(parts) == 4 and parts[3] in _AUG_FIELDS[alias]:
        to = f"data.augmentation.{alias}.{parts[3]}"
        rep.set(to, value)
        rep.log(key, "renamed", to)
        return
    name = alias or name
    if name in AUGMENTATIONS and len(parts) == 4 and parts[3] in _AUG_FIELDS[name]:
        rep.set(key, value)
        return
    if name not in AUGMENTATIONS and rep.flat.get(f"data.augmentation.{name}.enabled") is False:
        rep.log(key, "dropped", "", f"{SAME}: {name} is switched off (volseg has no {name})")
        return
    if name in AUGMENTATIONS:
        near = _closest(parts[-1], sorted(_AUG_FIELDS[name]), "")
        rep.log(
            key,
            "untranslated",
            f"data.augmentation.{name}.{near}" if near else "",
            f"volseg's {name} takes {', '.join(sorted(_AUG_FIELDS[name]))}",
        )
    else:
        rep.log(key, "untranslated", "", f"volseg has no {name} transform")


def rotate_axes(key: str, value: Any, rep: Report) -> None:
    """Rotation plane: two axes; three (any plane) keep volseg's (y, x)."""
    if isinstance(value, list) and len(value) == 2:
        new = [a + 1 for a in value] if is_2d(rep.flat) and max(value) < 2 else value
        rep.set("data.augmentation.rotate90.spatial_axes", new)
        note = f"{value} -> {new}: 2D (y, x) are volseg's axes 1, 2" if new != value else ""
        rep.log(
            key, "converted" if note else "renamed", "data.augmentation.rotate90.spatial_axes", note
        )
    else:
        rep.log(
            key,
            "untranslated",
            "data.augmentation.rotate90.spatial_axes",
            f"volseg rotates in one plane; {value} keeps the default (y, x) plane",
        )


def rotate_angle(key: str, value: Any, rep: Report) -> None:
    """PyTC's rotate is by multiples of 90 degrees, as volseg's rotate90."""
    if float(value) == 90.0:
        rep.log(key, "dropped", "", f"{SAME}: volseg rotates by multiples of 90 degrees")
    else:
        rep.log(
            key,
            "untranslated",
            "data.augmentation.affine.rotate_range",
            "volseg's rotate90 turns by 90 degrees; small angles are affine's",
        )


def optimizer_name(key: str, value: Any, rep: Report) -> None:
    """Optimizer names, case-insensitively."""
    by_lower = {o.lower(): o for o in OPTIMIZERS}
    name = by_lower.get(str(value).lower())
    if name is None:
        rep.log(
            key,
            "untranslated",
            "optimization.optimizer.name: AdamW",
            f"volseg has no {value!r} optimizer",
        )
        return
    rep.set("optimization.optimizer.name", name)
    if name != value:
        rep.log(key, "converted", "optimization.optimizer.name", f"{value!r} -> {name!r}")


SCHEDULER_NAMES = {
    "warmupcosine": "warmup_cosine", "warmupcosinelr": "warmup_cosine",
    "cosineannealinglr": "cosine", "cosineannealing": "cosine", "cosine": "cosine",
    "reducelronplateau": "reduce_on_plateau", "plateau": "reduce_on_plateau",
    "steplr": "step", "step": "step", "constant": "none", "constantlr": "none", "none": "none",
}  # fmt: skip
#: PyTC scheduler keys with no volseg counterpart, and why.
_SCHED_WHY = {
    "interval": f"{SAME}: volseg steps schedules per optimizer step along the epochs",
    "frequency": f"{SAME}: every step",
    "mode": f"{SAME}: volseg's plateau follows monitor.checkpoint.monitor and its mode",
    "monitor": "volseg's plateau follows monitor.checkpoint.monitor",
    "threshold": f"{NO_FEATURE}: a plateau improvement threshold",
    "cooldown": f"{NO_FEATURE}: a plateau cooldown",
    "eps": f"{NO_FEATURE}: a minimal lr change",
    "max_iter": "volseg's schedule spans optimization.max_epochs",
}


def scheduler(key: str, value: Any, rep: Report) -> None:
    """A whole PyTC scheduler block (``params`` flattened in) as volseg's scheduler."""
    block = dict(value or {})
    block.update(block.pop("params", None) or {})
    raw = str(block.pop("name", "warmupcosine"))
    name = SCHEDULER_NAMES.get(raw.lower().replace("_", ""))
    at = f"{key}.name"
    if name == "step" and float(block.get("gamma", 0.1)) >= 1.0:
        name = "none"
        rep.log(
            at,
            "converted",
            "optimization.scheduler.name: none",
            f"{raw} with gamma {block['gamma']} keeps the lr constant",
        )
    elif name is None:
        name = "warmup_cosine"
        rep.log(
            at,
            "untranslated",
            "optimization.scheduler.name: warmup_cosine",
            f"volseg has no {raw!r} scheduler",
        )
    elif name != raw:
        rep.log(at, "converted", "optimization.scheduler.name", f"{raw!r} -> {name!r}")
    rep.set("optimization.scheduler.name", name)
    used = SCHEDULER_KEYS[name]
    max_epochs = rep.flat.get("optimization.max_epochs", rep.flat.get("training.max_epochs"))
    for k, v in block.items():
        kat = f"{key}.{k}"
        if k in used:
            rep.set(f"optimization.scheduler.{k}", v)
        elif k == "t_max" and name == "cosine" and v == max_epochs:
            rep.log(kat, "dropped", "", f"{SAME}: volseg's cosine spans max_epochs")
        elif k == "t_max":
            rep.log(
                kat,
                "untranslated",
                "optimization.max_epochs",
                f"volseg's cosine spans the whole run ({max_epochs} epochs), not {v}",
            )
        elif k in _SCHED_WHY:
            action = "dropped" if _SCHED_WHY[k].startswith((SAME, NO_FEATURE)) else "untranslated"
            rep.log(kat, action, "", _SCHED_WHY[k])
        else:
            rep.log(kat, "dropped", "", f"{SAME}: PyTC's {raw} ignores it too")


#: PyTC optimizer profiles (connectomics/config/profiles/optimizer_profiles.yaml), spelled out.
OPTIMIZER_PROFILES = {
    "warmup_cosine_lr": {"scheduler": {"name": "WarmupCosineLR", "warmup_epochs": 3,
                                       "warmup_start_lr": 1.0e-5, "min_lr": 1.0e-6},
                         "optimizer": {"name": "AdamW", "lr": 3e-4, "weight_decay": 0.01}},
    "cosine_annealing_lr": {"scheduler": {"name": "CosineAnnealingLR", "min_lr": 1.0e-6},
                            "optimizer": {"name": "AdamW", "lr": 3e-4, "weight_decay": 0.01}},
}  # fmt: skip


def optimizer_profile(key: str, value: Any, rep: Report) -> None:
    """A PyTC optimizer profile: its values where the file sets none itself."""
    prof = OPTIMIZER_PROFILES.get(str(value))
    if prof is None:
        rep.log(
            key,
            "untranslated",
            "optimization.scheduler",
            f"profile {value!r} lives in PyTC's repository; set the scheduler",
        )
        return
    if "optimization.scheduler" not in rep.flat:
        scheduler("optimization.scheduler", prof["scheduler"], Report(rep.flat))
        sched = dict(prof["scheduler"])
        sched["name"] = SCHEDULER_NAMES[sched["name"].lower()]
        for k, v in sched.items():
            rep.set(f"optimization.scheduler.{k}", v)
    for k, v in prof["optimizer"].items():
        if f"optimization.optimizer.{k}" not in rep.flat:
            rep.set(f"optimization.optimizer.{k}", v)
    rep.log(
        key,
        "converted",
        "optimization.optimizer, optimization.scheduler",
        f"profile {value!r} spelled out (keys the file sets win)",
    )


MONITOR_NAMES = {
    "val/loss": "val_loss", "val_loss": "val_loss", "val_loss_total": "val_loss",
    "val_loss_total_epoch": "val_loss", "train_loss_total_epoch": "train_loss",
    "train/loss": "train_loss", "train_loss": "train_loss", "train_loss_epoch": "train_loss",
    "val/dice": "val_dice", "val_dice": "val_dice",
}  # fmt: skip


def monitor_name(key: str, value: Any, rep: Report) -> None:
    """Logged-value names: PyTC's into volseg's aliases."""
    to = "monitor.early_stopping.monitor" if "early" in key else "monitor.checkpoint.monitor"
    name = MONITOR_NAMES.get(str(value))
    if name is None:
        rep.log(key, "untranslated", f"{to}: val_loss", f"volseg logs no {value!r}")
        return
    rep.set(to, name)
    if name != value or to != key:
        rep.log(key, "converted", to, f"{value!r} -> {name!r}")


def val_interval(key: str, value: Any, rep: Report) -> None:
    """Lightning's ``val_check_interval``: 1.0 is volseg's every-epoch validation."""
    if float(value) == 1.0:
        rep.log(key, "dropped", "", f"{SAME}: volseg validates every epoch")
    else:
        rep.log(
            key,
            "untranslated",
            "monitor.val_every_n_epochs",
            "volseg validates every n epochs, not within an epoch",
        )


def images(key: str, value: Any, rep: Report) -> None:
    """Image logging: on/off and frequency map; the layout keys do not."""
    block = dict(value or {})
    if block.pop("enabled", True) is False:
        rep.set("monitor.logging.figures_every_n_epochs", 0)
        rep.log(f"{key}.enabled", "converted", "monitor.logging.figures_every_n_epochs", "off = 0")
        block.pop("log_every_n_epochs", None)
    for k, v in block.items():
        if k == "log_every_n_epochs":
            rep.set("monitor.logging.figures_every_n_epochs", v)
            rep.log(f"{key}.{k}", "renamed", "monitor.logging.figures_every_n_epochs")
        else:
            rep.log(f"{key}.{k}", "dropped", "", f"{NO_FEATURE}: volseg's validation figures "
                    "have a fixed layout")  # fmt: skip


def moved(prefix: str) -> Callable[[str, Any, Report], None]:
    """A top-level block of a PyTC preset fragment, migrated as if under ``prefix``."""

    def fn(key: str, value: Any, rep: Report) -> None:
        from volseg.config.migrate.engine import apply_key

        if prefix.endswith("scheduler"):
            scheduler(key, value, rep)
            return
        for k, v in (value or {}).items():
            apply_key(f"{prefix}.{k}", v, rep, shown=f"{key}.{k}")

    return fn
