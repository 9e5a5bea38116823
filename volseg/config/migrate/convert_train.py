"""Converters for PyTC system, network-shape and data keys, and helpers the others share.

Plain converters take a value and return the volseg value; ``custom`` converters take
``(key, value, report)``, set volseg keys and log their own rows.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from typing import Any

from volseg.config.migrate.rule import SAME
from volseg.config.migrate.table import Report
from volseg.config.schema_model import ARCHITECTURES


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
