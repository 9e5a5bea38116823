"""Converters for PyTC losses, label targets, multi-task rows and pipeline profiles."""

from __future__ import annotations

from typing import Any

from volseg.config.migrate.convert_train import _closest
from volseg.config.migrate.rule import SAME
from volseg.config.migrate.table import Report
from volseg.config.schema_data import TARGET_KWARGS
from volseg.config.schema_model import LOSS_KWARGS

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
    """volseg's losses take MONAI's argument names with MONAI's meaning, so they are kept;
    values volseg does not compute (softmax, other reductions) are reported, not kept."""
    from volseg.errors import VolsegError
    from volseg.losses.monai_args import check_loss_kwargs

    accepts = LOSS_KWARGS[name]
    out: dict[str, Any] = {}
    for k, v in kw.items():
        at = f"{where}.{k}"
        if k not in accepts:
            near = _closest(k, list(accepts), "")
            rep.log(at, "untranslated", f"{where}.{near}" if near else "",
                    f"volseg's {name} takes {', '.join(accepts) or 'no kwargs'}")  # fmt: skip
            continue
        try:
            check_loss_kwargs(name, {**out, k: v})
        except VolsegError as exc:
            rep.log(at, "untranslated", "", str(exc))
            continue
        out[k] = v
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
