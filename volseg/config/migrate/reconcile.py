"""Make a migrated tree consistent where volseg ties keys together that PyTC did not.

Each step changes only what volseg would refuse, and logs a row naming the key. Keys:
input size = patch size; sizes divisible by the network's downsampling; keys the chosen
architecture or scheduler ignores; output channels = the targets' channels; a loss on every
channel; monitors the data can compute; a decoder the maps can feed.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

from volseg.config.migrate.table import Report
from volseg.config.schema_data import AUGMENTATIONS, target_channels
from volseg.config.schema_model import (
    ARCHITECTURE_KEYS,
    DEFAULT_FILTERS,
    ModelConfig,
    down_factors,
)
from volseg.config.schema_run import SCHEDULER_KEYS, SchedulerConfig

_ARCH_KEYS = frozenset().union(*ARCHITECTURE_KEYS.values())
_DEFAULT_TARGETS = ["binary", "instance_boundary", "instance_edt"]


def _model(rep: Report) -> dict[str, Any]:
    m = dataclasses.asdict(ModelConfig())
    m.update(rep.out.get("model", {}))
    return m


def sizes(rep: Report) -> None:
    """2D networks, input size = patch size, architecture keys, divisibility."""
    flat = rep.flat
    if len(flat.get("model.input_size") or [0, 0, 0]) == 2 or flat.get("data.do_2d"):
        if rep.get("model.spatial_dims") != 2:
            rep.set("model.spatial_dims", 2)
            rep.log("model.input_size", "converted", "model.spatial_dims", "2D sizes: a 2D net")
    patch, size = rep.get("data.patch_size"), rep.get("model.input_size")
    if patch is not None and patch != size:
        rep.set("model.input_size", patch)
        why = "volseg's network takes the training patches as they are"
        rep.log("data.patch_size", "converted", "model.input_size", f"{size} -> {patch}: {why}")
        if rep.get("model.output_size") not in (None, patch):
            rep.pop("model.output_size")
            rep.log("model.output_size", "converted", "model.output_size", "= input size")
    out, size = rep.get("model.output_size"), rep.get("model.input_size")
    if out is not None and size is not None and any(o > i for o, i in zip(out, size, strict=False)):
        rep.pop("model.output_size")
        rep.log(
            "model.output_size",
            "converted",
            "model.output_size",
            f"{out} exceeds the input size {size}; the output is the input size",
        )
    m = _model(rep)
    arch = m["architecture"]
    for key in sorted(_ARCH_KEYS - ARCHITECTURE_KEYS[arch]):
        if key in rep.out.get("model", {}):
            rep.pop(f"model.{key}")
            rep.log(f"model.{key}", "dropped", "", f"same effect by default: PyTC's {arch} "
                    "ignores it too")  # fmt: skip
    m = _model(rep)
    filters = m["filters"]
    if arch == "monai_basic_unet3d" and filters is not None and len(filters) != 6:
        new = (list(filters) + [filters[-1]] * 6)[:6]  # PyTC repeats the last width
        rep.set("model.filters", new)
        rep.log("model.filters", "converted", "model.filters", f"{filters} -> {new}: MONAI's "
                "BasicUNet takes 6 widths; PyTC repeats the last one, as here")  # fmt: skip
    m = _model(rep)
    if m["filters"] is None and arch in DEFAULT_FILTERS:
        m["filters"] = DEFAULT_FILTERS[arch]
    strides = m["strides"]
    if strides is not None and m["filters"] and len(strides) != len(m["filters"]) - 1:
        rep.pop("model.strides")
        rep.log("model.strides", "untranslated", "model.strides", f"{strides} does not give "
                "one stride per level transition; 2 per level used")  # fmt: skip
        m["strides"] = None
    total = [math.prod(f[d] for f in down_factors(SimpleNamespace(**m))) for d in range(3)]
    size = m["input_size"]
    if any(s % t for s, t in zip(size, total, strict=True)):
        new = [math.ceil(s / t) * t for s, t in zip(size, total, strict=True)]
        rep.set("model.input_size", new)
        if rep.get("data.patch_size") is not None:
            rep.set("data.patch_size", new)
        rep.pop("model.output_size")
        rep.log(
            "model.input_size",
            "converted",
            "model.input_size, data.patch_size",
            f"{size} -> {new}: a multiple of the total downsampling {total}",
        )


def targets(rep: Report) -> None:
    """Targets, out_channels and multi_task_config agree; every loss list lines up."""
    out_ch = rep.get("model.out_channels", ModelConfig().out_channels)
    given = rep.get("data.label_transform.targets") or []
    names = [t["name"] for t in given]
    if not names and "model" not in rep.out:
        return  # no model at all: volseg's defaults stand
    if not names:
        names = ["binary"] if out_ch in (1, 2) else _DEFAULT_TARGETS
        rep.set("data.label_transform.targets", [{"name": n} for n in names])
        why = {1: "its one channel is the foreground",
               2: "a background/foreground softmax pair is one sigmoid foreground channel",
               3: "its three channels taken as foreground, boundary and distance"}  # fmt: skip
        rep.log("data.label_transform.targets", "converted" if out_ch in why else "untranslated",
                "data.label_transform.targets", f"the file names no targets: {names}; "
                + why.get(out_ch, f"volseg has no {out_ch}-channel target set"))  # fmt: skip
    kwargs = [t.get("kwargs") for t in given] or [None] * len(names)
    need = sum(target_channels(n, kw) for n, kw in zip(names, kwargs, strict=True))
    if out_ch != need:
        given = rep.get("model.out_channels") is not None
        rep.set("model.out_channels", need)
        rep.log(
            "model.out_channels",
            "converted",
            "model.out_channels",
            f"{out_ch if given else 'unset'} -> {need}: one channel per volseg target "
            f"({', '.join(names)})",
        )
    if rep.get("model.loss_functions") is None and names != _DEFAULT_TARGETS:
        rep.set("model.loss_functions", ["WeightedBCEWithLogitsLoss", "DiceLoss"])
        rep.set("model.loss_weights", [1.0, 1.0])
        rep.set("model.loss_kwargs", [{}, {}])
        rep.set("model.multi_task_config", [])
        rep.log(
            "model.loss_functions",
            "untranslated",
            "model.loss_functions",
            "the file names no losses; BCE and Dice on every channel",
        )
    losses = rep.get("model.loss_functions") or ModelConfig().loss_functions
    n_loss = len(losses)
    rows = rep.get("model.multi_task_config")
    by_slice = rep.pop("migrate.loss_channels")
    if rows is None and by_slice:
        rows = [[a, b, names[min(a, len(names) - 1)], [i]] for a, b, i in by_slice]
    if rows is None:
        if rep.get("model.loss_functions") is not None or names != _DEFAULT_TARGETS:
            rep.set("model.multi_task_config", [])  # every loss on every channel, as PyTC
        rep.pop("migrate")
        _loss_lists(rep, n_loss)
        return
    fixed: dict[str, list[int]] = {}
    for row in rows:
        name, idx = row[2], [i for i in row[3] if 0 <= i < n_loss]
        if name in names and idx:
            fixed.setdefault(name, [])
            fixed[name] += [i for i in idx if i not in fixed[name]]
    new = []
    for c, name in enumerate(names):
        idx = fixed.get(name) or list(range(n_loss))
        new.append([c, c + 1, name, idx])
        if name not in fixed:
            rep.log(
                "model.multi_task_config",
                "untranslated",
                "model.multi_task_config",
                f"target {name} had no row; every loss is applied to it",
            )
    if new != rows:
        rep.log(
            "model.multi_task_config",
            "converted",
            "model.multi_task_config",
            f"rows follow the volseg targets: {new}",
        )
    rep.set("model.multi_task_config", new)
    rep.pop("migrate")
    _loss_lists(rep, n_loss)


def _loss_lists(rep: Report, n_loss: int) -> None:
    for key, fill in (("model.loss_weights", 1.0), ("model.loss_kwargs", {})):
        value = rep.get(key)
        if value is not None and len(value) != n_loss:
            new = (list(value) + [fill] * n_loss)[:n_loss]
            rep.set(key, new)
            rep.log(key, "converted", key, f"{len(value)} entries -> one per loss ({n_loss})")


def schedule(rep: Report) -> None:
    """Scheduler keys the chosen schedule uses, warm-up shorter than the run, min_lr < lr."""
    s = rep.get("optimization.scheduler") or {}
    name = s.get("name", SchedulerConfig().name)
    for key in sorted(set(s) - {"name"} - SCHEDULER_KEYS[name]):
        rep.pop(f"optimization.scheduler.{key}")
    epochs = rep.get("optimization.max_epochs", 100)
    warm = s.get("warmup_epochs", SchedulerConfig().warmup_epochs)
    if name == "warmup_cosine" and warm >= epochs:
        new = max(epochs // 10, 0)
        rep.set("optimization.scheduler.warmup_epochs", new)
        rep.log("optimization.scheduler.warmup_epochs", "converted",
                "optimization.scheduler.warmup_epochs", f"{warm} -> {new}: below max_epochs "
                f"({epochs})")  # fmt: skip
    lr = rep.get("optimization.optimizer.lr", 1e-3)
    min_lr = s.get("min_lr", SchedulerConfig().min_lr)
    if name in ("warmup_cosine", "cosine", "reduce_on_plateau") and min_lr >= lr:
        rep.set("optimization.scheduler.min_lr", lr / 100)
        rep.log(
            "optimization.scheduler.min_lr",
            "converted",
            "optimization.scheduler.min_lr",
            f"{min_lr} -> {lr / 100}: below lr {lr}",
        )


def monitors(rep: Report) -> None:
    """Validation monitors need validation data; without it PyTC's run has none either."""
    has_val = bool(rep.get("data.val_image")) or rep.get("data.val_region") is not None
    if has_val or not rep.get("data.train_image"):
        return
    for key in ("monitor.checkpoint.monitor", "monitor.early_stopping.monitor"):
        if key.startswith("monitor.early") and not rep.get("monitor.early_stopping.enabled"):
            continue
        name = rep.get(key)
        if name != "train_loss":
            was = repr(name) if name is not None else "unset (volseg's default 'val_loss')"
            rep.set(key, "train_loss")
            rep.set(key.rsplit(".", 1)[0] + ".mode", "min")
            rep.log(key, "converted", key, f"{was} -> 'train_loss': the file gives no "
                    "validation data, so only the training loss is logged")  # fmt: skip


def inference(rep: Report) -> None:
    """TTA with nothing to augment is plain prediction; a decoder the targets can feed."""
    tta = rep.get("inference.test_time_augmentation") or {}
    if tta.get("enabled") and tta.get("flip_axes") == [] and not tta.get("rotate90"):
        rep.set("inference.test_time_augmentation.enabled", False)
        rep.log("inference.test_time_augmentation.enabled", "converted",
                "inference.test_time_augmentation.enabled", "on with no flips or rotations "
                "averages the identity alone, which is off")  # fmt: skip
    given = rep.get("data.label_transform.targets") or []
    names = [t["name"] for t in given]
    if rep.get("test.decoding") is None and names and names != _DEFAULT_TARGETS:
        if names[0] == "instance_boundary":
            step = {"name": "watershed", "kwargs": {"channel": 0, "invert": False}}
            how = "a seeded watershed of the boundary map (channel 0)"
        else:
            step = {"name": "cc", "kwargs": {"channel": 0}}
            how = "connected components of channel 0"
        rep.set("test.decoding", [step])
        rep.log(
            "test.decoding",
            "converted",
            "test.decoding",
            "the file names no decoder; "
            "volseg's default needs foreground, boundary and distance maps, so " + how,
        )


def augmentation(rep: Report) -> None:
    """PyTC's presets: ``some`` (its default) = only transforms set enabled; ``none`` = off."""
    if rep.flat.get("data.augmentation.preset") == "none":
        for name in AUGMENTATIONS:
            if rep.get(f"data.augmentation.{name}.enabled"):
                rep.set(f"data.augmentation.{name}.enabled", False)
                rep.log(f"data.augmentation.{name}.enabled", "converted",
                        f"data.augmentation.{name}.enabled", "PyTC's preset none switches "
                        "every transform off, enabled or not")  # fmt: skip
    if rep.get("data.augmentation.preset") is None:
        rep.set("data.augmentation.preset", "none")
        rep.log(
            "data.augmentation.preset",
            "converted",
            "data.augmentation.preset",
            "unset: PyTC's default switches on only the transforms set enabled, which is "
            "volseg's 'none' (volseg's own default 'some' adds flip, rotate90, intensity)",
        )


def reconcile(rep: Report) -> None:
    """Every consistency step, in order."""
    augmentation(rep)
    sizes(rep)
    targets(rep)
    schedule(rep)
    monitors(rep)
    inference(rep)
