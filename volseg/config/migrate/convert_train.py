"""Converters for PyTC training keys (model, data, optimization, monitor).

Plain converters take a value and return the volseg value; ``custom`` converters take
``(key, value, report)``, set volseg keys and log their own rows.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from typing import Any

from volseg.config.migrate.table import Report
from volseg.config.schema_data import TARGET_KWARGS
from volseg.config.schema_model import ARCHITECTURES, LOSS_KWARGS

NO_FEATURE = "no such feature in volseg"
SAME = "same effect by default"


def _closest(name: str, choices: list[str] | tuple[str, ...], fallback: str) -> str:
    hit = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return hit[0] if hit else fallback


def is_2d(flat: dict[str, Any]) -> bool:
    """Whether a PyTC file describes a 2D network (2D sizes, ``do_2d`` or mednext ``2d``)."""
    return (
        len(flat.get("model.input_size") or flat.get("data.patch_size") or [0, 0, 0]) == 2
        or bool(flat.get("data.do_2d"))
        or str(flat.get("model.mednext_dim", flat.get("model.mednext.dim", ""))).startswith("2")
    )


def axes_2d(key: str, value: Any, rep: Report) -> None:
    """Spatial axes: in a 2D file PyTC's 0, 1 are volseg's y, x (1, 2)."""
    if is_2d(rep.flat) and isinstance(value, list):
        new = [a + 1 for a in value if a + 1 <= 2]
        rep.set(key, new)
        rep.log(key, "converted", key, f"{value} -> {new}: 2D (y, x) are volseg's axes 1, 2")
    else:
        rep.set(key, value)


def zyx_size(v: Any) -> Any:
    """A 2D ``[y, x]`` size as ``[1, y, x]``; 3D sizes as they are."""
    return [1, *v] if isinstance(v, list) and len(v) == 2 else v


def zyx_pad(v: Any) -> Any:
    """A 2D ``[y, x]`` amount as ``[0, y, x]``."""
    return [0, *v] if isinstance(v, list) and len(v) == 2 else v


def angles(v: Any) -> Any:
    """2D rotation ranges rotate in-plane only: about z."""
    return [max(v), 0.0, 0.0] if isinstance(v, list) and len(v) == 2 else v


def dims(v: Any) -> int:
    """``"2d"``/``"3d"`` as ``spatial_dims``."""
    return 2 if str(v).lower().startswith("2") else 3


def precision(v: Any) -> str:
    """Lightning precision names volseg accepts."""
    s = str(v)
    return {"16": "16-mixed", "bf16": "bf16-mixed", "32-true": "32", "64": "32"}.get(s, s)


def both_stages(name: str) -> Callable[[str, Any, Report], None]:
    """``system.<name>`` (one value for all stages) into training and inference."""

    def fn(key: str, value: Any, rep: Report) -> None:
        rep.set(f"system.training.{name}", value)
        rep.set(f"system.inference.{name}", value)
        rep.log(key, "converted", f"system.training.{name}, system.inference.{name}",
                "one value for both stages")  # fmt: skip

    return fn


def inference_batch(key: str, value: Any, rep: Report) -> None:
    """PyTC's inference batch size is the sliding-window batch unless that is given."""
    if "inference.sliding_window.sw_batch_size" in rep.flat:
        rep.log(key, "dropped", "", f"{SAME}: inference.sliding_window.sw_batch_size is given")
        return
    rep.set("inference.sliding_window.sw_batch_size", value)
    rep.log(key, "renamed", "inference.sliding_window.sw_batch_size", "windows per forward pass")


def architecture(key: str, value: Any, rep: Report) -> None:
    """Network names; one volseg lacks gets the closest with a row."""
    name = str(value)
    if name in ARCHITECTURES:
        rep.set("model.architecture", name)
        if key != "model.architecture":
            rep.log(key, "renamed", "model.architecture")
        return
    near = {"unet_3d": "monai_unet", "unet_2d": "monai_unet", "nnunet": "monai_unet",
            "mednext_custom": "mednext", "unet": "monai_unet"}.get(name)  # fmt: skip
    near = near or _closest(name, ARCHITECTURES, "rsunet")
    rep.set("model.architecture", near)
    rep.log(key, "untranslated", f"model.architecture: {near}",
            f"volseg has no {name!r}; {near} is the closest network (set)")  # fmt: skip


def strides(key: str, value: Any, rep: Report) -> None:
    """MONAI strides; PyTC's rsunet takes its downsampling from ``rsunet_down_factors``."""
    arch = rep.flat.get("model.architecture", rep.flat.get("model.arch.type"))
    if arch in ("rsunet", "mednext", "monai_basic_unet3d"):
        rep.log(key, "dropped", "", f"{SAME}: PyTC's {arch} ignores model.strides")
    else:
        rep.set("model.strides", value)


LOSS_SAME = {"WeightedBCE": "WeightedBCEWithLogitsLoss", "BCELoss": "BCEWithLogitsLoss"}
LOSS_CLOSE = {
    "WeightedMSELoss": "MSELoss",
    "WeightedMSE": "MSELoss",
    "CrossEntropyLoss": "BCEWithLogitsLoss",
    "DiceCELoss": "DiceLoss",
    "GeneralizedDiceLoss": "DiceLoss",
    "DiceFocalLoss": "FocalLoss",
    "L1Loss": "SmoothL1Loss",
    "WeightedMAE": "SmoothL1Loss",
}


def loss_name(name: str, where: str, rep: Report) -> str:
    """A volseg loss name for a PyTC one (rows for renames and stand-ins)."""
    if name in LOSS_KWARGS:
        return name
    if name in LOSS_SAME:
        rep.log(where, "renamed", LOSS_SAME[name], f"{name} is {LOSS_SAME[name]}")
        return LOSS_SAME[name]
    near = LOSS_CLOSE.get(name) or _closest(name, list(LOSS_KWARGS), "DiceLoss")
    why = {"CrossEntropyLoss": "volseg's heads are per-channel sigmoids, with no softmax "
           "over classes"}.get(name, "volseg has no per-voxel weighted variant")  # fmt: skip
    rep.log(where, "untranslated", near, f"{name}: {why}; {near} used instead")
    return near


def loss_functions(key: str, value: Any, rep: Report) -> None:
    """The loss list, names mapped."""
    names = [loss_name(str(n), f"{key}[{i}]", rep) for i, n in enumerate(value)]
    rep.set("model.loss_functions", names)


def _loss_kw(name: str, kw: dict[str, Any], where: str, rep: Report) -> dict[str, Any]:
    accepts = LOSS_KWARGS[name]
    out: dict[str, Any] = {}
    for k, v in kw.items():
        at = f"{where}.{k}"
        if k in ("smooth_nr", "smooth_dr") and "smooth" in accepts:
            other = kw.get("smooth_dr" if k == "smooth_nr" else "smooth_nr", v)
            if k == "smooth_nr" or "smooth_nr" not in kw:
                out["smooth"] = float(v)
                note = "one smoothing term for numerator and denominator"
                if float(other) != float(v):
                    note += f" (smooth_dr {other} differs; smooth_nr kept)"
                rep.log(at, "converted", f"{where}.smooth", note)
            else:
                rep.log(at, "converted", f"{where}.smooth", "merged with smooth_nr")
        elif k == "sigmoid" and v is True:
            rep.log(at, "dropped", "", f"{SAME}: volseg's {name} applies a sigmoid to logits")
        elif k == "reduction" and v == "mean":
            rep.log(at, "dropped", "", f"{SAME}: volseg averages over voxels and batch")
        elif k == "include_background":
            rep.log(at, "dropped", "", f"{SAME}: each loss sees only its own channels "
                    "(model.multi_task_config), so there is no background channel")  # fmt: skip
        elif k in accepts:
            out[k] = v
        else:
            near = _closest(k, list(accepts), "")
            rep.log(at, "untranslated", f"{where}.{near}" if near else "",
                    f"volseg's {name} takes {', '.join(accepts) or 'no kwargs'}")  # fmt: skip
    return out


def loss_kwargs(key: str, value: Any, rep: Report) -> None:
    """Per-loss kwargs: MONAI-style arguments mapped to volseg's, each change logged."""
    names = [str(n) for n in rep.flat.get("model.loss_functions") or []]
    scratch = Report({})
    volseg_names = [loss_name(n, "", scratch) for n in names]
    out = []
    for i, kw in enumerate(value or []):
        name = volseg_names[i] if i < len(volseg_names) else "DiceLoss"
        out.append(_loss_kw(name, dict(kw or {}), f"{key}[{i}]", rep))
    rep.set("model.loss_kwargs", out)


def staged_losses(key: str, value: Any, rep: Report) -> None:
    """2026 ``model.loss.losses`` (function, weight, kwargs, slices) into the loss lists."""
    names, weights, kwargs, rows = [], [], [], []
    for i, item in enumerate(value or []):
        at = f"{key}[{i}]"
        name = loss_name(str(item.get("function", "DiceLoss")), f"{at}.function", rep)
        names.append(name)
        weights.append(float(item.get("weight", 1.0)))
        kwargs.append(_loss_kw(name, dict(item.get("kwargs") or {}), f"{at}.kwargs", rep))
        sl = item.get("pred_slice")
        if isinstance(sl, str) and ":" in sl:
            start, _, end = sl.partition(":")
            a = int(start or 0)
            b = int(end) if end else int(rep.flat.get("model.out_channels") or a + 1)
            rows.append((a, b, i))
        for k in item:
            if k not in ("function", "weight", "kwargs", "pred_slice", "target_slice"):
                rep.log(f"{at}.{k}", "untranslated", "model.loss_kwargs", "no volseg loss key")
    rep.set("model.loss_functions", names)
    rep.set("model.loss_weights", weights)
    rep.set("model.loss_kwargs", kwargs)
    rep.set("migrate.loss_channels", rows)
    rep.log(
        key,
        "converted",
        "model.loss_functions, loss_weights, loss_kwargs",
        "one list per key; pred_slice/target_slice become model.multi_task_config rows",
    )


def loss_balancing(key: str, value: Any, rep: Report) -> None:
    """``{strategy: X}`` or ``X`` as volseg's ``loss_balancing`` name."""
    strategy = value.get("strategy") if isinstance(value, dict) else value
    name = "none" if strategy in (None, "null", "none") else str(strategy)
    if name not in ("none", "uncertainty", "gradnorm"):
        rep.log(key, "untranslated", "model.loss_balancing", f"volseg has no {name!r} balancing")
        return
    rep.set("model.loss_balancing", name)
    if value != name:
        rep.log(key, "converted", "model.loss_balancing", f"{value!r} -> {name!r}")
    if isinstance(value, dict):
        for k in value:
            if k != "strategy":
                rep.log(f"{key}.{k}", "untranslated", "model.loss_balancing",
                        "volseg's balancing takes no options")  # fmt: skip


#: PyTC target names (targets and multi_task rows) -> volseg target, and whether exact.
TARGET_NAMES: dict[str, tuple[str, bool]] = {
    "binary": ("binary", True), "label": ("binary", True), "mask": ("binary", True),
    "foreground": ("binary", True), "instance_boundary": ("instance_boundary", True),
    "boundary": ("instance_boundary", True), "contour": ("instance_boundary", True),
    "instance_edt": ("instance_edt", True), "edt": ("instance_edt", True),
    "distance": ("instance_edt", True), "semantic_edt": ("semantic_edt", True),
    "instance_sdt": ("instance_edt", False), "sdt": ("instance_edt", False),
    "skeleton_aware_edt": ("instance_edt", False), "affinity": ("instance_boundary", False),
    "polarity": ("binary", False),
}  # fmt: skip
_TARGET_WHY = {
    "affinity": "volseg has no affinity maps (planned); boundary maps mark the same "
    "between-instance edges",
    "instance_sdt": "volseg's distance is per-instance EDT, -1 on background (not signed)",
    "skeleton_aware_edt": "volseg has no skeleton-aware distance",
}


def target_name(name: str, where: str, rep: Report) -> str:
    """A volseg target name for a PyTC one (row when it is a stand-in)."""
    to, exact = TARGET_NAMES.get(name, (_closest(name, list(TARGET_KWARGS), "binary"), False))
    if not exact:
        why = _TARGET_WHY.get(name, f"volseg has no {name!r} target")
        rep.log(where, "untranslated", to, f"{why}; {to} used instead")
    elif to != name:
        rep.log(where, "renamed", to)
    return to


def targets(key: str, value: Any, rep: Report) -> None:
    """Label targets: names and kwargs mapped, duplicates after mapping left out."""
    out: list[dict[str, Any]] = []
    for i, t in enumerate(value or []):
        at = f"{key}[{i}]"
        name = target_name(str(t.get("name")), f"{at}.name", rep)
        if any(o["name"] == name for o in out):
            rep.log(at, "untranslated", key, f"a second {name} target (volseg has one of each)")
            continue
        kw: dict[str, Any] = {}
        for k, v in (t.get("kwargs") or {}).items():
            kat = f"{at}.kwargs.{k}"
            if name == "instance_boundary" and k == "mode":
                kw["mode_2d"] = str(v).lower() == "2d"
                rep.log(kat, "converted", f"{at}.kwargs.mode_2d", f"{v!r} -> {kw['mode_2d']}")
            elif k == "resolution":
                rep.log(kat, "dropped", "", f"{SAME}: volseg's targets use the voxel size in nm")
            elif k in TARGET_KWARGS[name]:
                kw[k] = v
            else:
                rep.log(
                    kat,
                    "untranslated",
                    "",
                    f"volseg's {name} takes {', '.join(TARGET_KWARGS[name]) or 'no kwargs'}",
                )
        out.append({"name": name, "kwargs": kw} if kw else {"name": name})
    rep.set("data.label_transform.targets", out)


PROFILE_TARGETS = {
    "binary": ["binary"],
    "label_binary": ["binary"],
    "bcd": ["binary", "instance_boundary", "instance_edt"],
    "label_bcd": ["binary", "instance_boundary", "instance_edt"],
}


_BCE = {"function": "WeightedBCEWithLogitsLoss", "kwargs": {"reduction": "mean"}}
_DICE = {"function": "DiceLoss", "kwargs": {"sigmoid": True, "smooth_nr": 1e-5, "smooth_dr": 1e-5}}
#: PyTC loss profiles (connectomics/config/profiles/loss_profiles.yaml) the pipelines name.
LOSS_PROFILES: dict[str, list[dict[str, Any]]] = {
    "binary": [_BCE, _DICE],
    "bcd": [
        {**_BCE, "pred_slice": "0:1"}, {**_DICE, "weight": 0.5, "pred_slice": "0:1"},
        {**_BCE, "pred_slice": "1:2"}, {**_DICE, "weight": 0.5, "pred_slice": "1:2"},
        {"function": "WeightedMSELoss", "weight": 2.0, "kwargs": {"tanh": True},
         "pred_slice": "2:3"},
    ],
}  # fmt: skip


def pipeline_profile(key: str, value: Any, rep: Report) -> None:
    """PyTC pipeline profiles volseg can spell out (binary, bcd); others reported."""
    names = PROFILE_TARGETS.get(str(value))
    if names is None:
        rep.log(key, "untranslated", "data.label_transform.targets",
                f"profile {value!r} lives in PyTC's repository; set the targets")  # fmt: skip
        return
    rep.set("data.label_transform.targets", [{"name": n} for n in names])
    rep.log(key, "converted", "data.label_transform.targets", f"{value!r} -> {names}")
    losses = LOSS_PROFILES.get(str(value).removeprefix("label_"))
    if losses and "model.loss.losses" not in rep.flat and "model.loss_functions" not in rep.flat:
        staged_losses(f"loss_{str(value).removeprefix('label_')}", losses, rep)


label_profile = pipeline_profile


def multi_task(key: str, value: Any, rep: Report) -> None:
    """Rows ``[start, end, target, losses]`` with target names mapped (channels fixed later)."""
    out = []
    for i, row in enumerate(value or []):
        if isinstance(row, list) and len(row) == 4:
            name = target_name(str(row[2]), f"{key}[{i}][2]", rep)
            out.append([row[0], row[1], name, list(row[3])])
    rep.set("model.multi_task_config", out)


def data_paths(key: str, value: Any, rep: Report) -> None:
    """Image/label/mask paths kept as written (``train_path`` joined in, lists for one)."""
    if key.endswith("path") and not key.endswith("output_path"):
        rep.log(key, "converted", "data/test.data image, label and mask paths",
                "joined in front of those paths, as PyTC does")  # fmt: skip
        return
    field = key.rsplit(".", 1)[-1]
    split = key.split(".")[1] if key.startswith(("data.train.", "data.val.", "data.test.")) else ""
    if split == "test":
        to = f"test.data.test_{field}"
    elif split:
        to = f"data.{split}_{field}"
    else:
        to = f"{'test.data' if 'test' in key else 'data'}.{field}"
    if value is None:
        rep.log(key, "dropped", "", f"{SAME}: null = none")
        return
    paths = [str(v) for v in (value if isinstance(value, list) else [value])]
    prefix = to.rsplit(".", 1)[-1].split("_")[0]  # train, val, test
    bases = [rep.flat.get("data.root_path"), rep.flat.get(f"data.{prefix}.path"),
             rep.flat.get(f"data.{prefix}_path"), rep.flat.get(f"inference.data.{prefix}_path"),
             rep.flat.get(f"test.data.{prefix}_path")]  # fmt: skip
    for base in reversed([str(b) for b in bases if b]):
        paths = [os.path.join(base, p) for p in paths]
    rep.set(to, paths)
    odd = [p for p in paths if any(c in p for c in "*?[") or p.endswith(".json")]
    if odd:
        rep.log(key, "untranslated", to, "kept as written, but volseg reads files one by one: "
                "list the files a glob or JSON names")  # fmt: skip
    elif to != key:
        rep.log(key, "renamed", to)


def split(key: str, value: Any, rep: Report) -> None:
    """PyTC's automatic split along z: the validation range at the end of z = val_region."""
    f = rep.flat
    on = bool(f.get("data.split_enabled"))
    val = f.get("data.split_val_range", [0.8, 1.0])
    axis = f.get("data.split_axis", 0)
    if not on:
        rep.log(key, "dropped", "", f"{SAME}: PyTC's automatic split is off")
    elif key != "data.split_enabled":
        rep.log(key, "converted", "data.val_region", "part of the split")
    elif axis == 0 and float(val[1]) == 1.0 and 0 < float(val[0]) < 1:
        rep.set("data.val_region", round(1.0 - float(val[0]), 6))
        rep.log(key, "converted", "data.val_region", f"validation on z-range {val} = the "
                f"last {1.0 - float(val[0]):.0%} of z")  # fmt: skip
    else:
        rep.log(key, "untranslated", "data.val_region", f"volseg holds out the end of z; "
                f"PyTC's range {val} on axis {axis} is not that")  # fmt: skip


def resolution(key: str, value: Any, rep: Report) -> None:
    """PyTC resolutions describe the data (no resampling): volseg's voxel-size keys."""
    to = "inference.voxel_size" if "test" in key else "data.voxel_size"
    ok = (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, int | float) and v > 0 for v in value)
    )
    if not ok:
        rep.log(key, "untranslated", to, f"{value!r} is not a (z, y, x) voxel size in nm; "
                "volseg reads it from the files")  # fmt: skip
        return
    rep.set(to, [float(v) for v in value])
    why = ("the image's voxel size where its file records none" if "test" in key else
           "the files' voxel size (train_resolution would resample; PyTC does not)")  # fmt: skip
    rep.log(key, "converted", to, why)


def iter_num(key: str, value: Any, rep: Report) -> None:
    """Samples per epoch; PyTC's -1 (every sample once) has no volseg equivalent."""
    if key == "optimization.n_steps_per_epoch":
        batch = rep.flat.get("data.dataloader.batch_size") or rep.flat.get(
            "system.training.batch_size", 2
        )
        rep.set("data.iter_num_per_epoch", int(value) * int(batch))
        rep.log(
            key,
            "converted",
            "data.iter_num_per_epoch",
            f"{value} steps x batch {batch} = {int(value) * int(batch)} patches",
        )
    elif int(value) < 1:
        rep.log(
            key,
            "untranslated",
            "data.iter_num_per_epoch",
            "PyTC's -1 means one pass "
            "over all samples; volseg samples random patches (default 256 per epoch)",
        )
    else:
        rep.set("data.iter_num_per_epoch", int(value))
