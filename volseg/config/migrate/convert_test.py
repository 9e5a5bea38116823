"""Converters for PyTC inference, decoding, evaluation and tuning keys."""

from __future__ import annotations

import itertools
from typing import Any

from volseg.config.migrate.convert_train import _closest, is_2d
from volseg.config.migrate.rule import NO_FEATURE, SAME
from volseg.config.migrate.table import Report
from volseg.config.schema_decode import DECODER_KWARGS, METRICS

#: PyTC decoder names -> (volseg decoder, exact?).
DECODERS: dict[str, tuple[str, bool]] = {
    "decode_instance_binary_contour_distance": ("contour_distance", True),
    "decode_binary_contour_distance_watershed": ("contour_distance", True),
    "decode_bcd": ("contour_distance", True),
    "decoding_bcd": ("contour_distance", True),
    "binary_thresholding": ("cc", True),
    "decode_binary_cc": ("cc", True),
    "decode_instance_binary": ("cc", True),
    "decode_binary_watershed": ("watershed", True),
    "decode_affinity_cc": ("cc", False),
    "decoding_waterz": ("watershed", False),
}
_PAIR_PROB = ("binary_threshold", "contour_threshold")


def decoder_name(name: str, where: str, rep: Report) -> str:
    """A volseg decoder for a PyTC decoding function (row when it is a stand-in)."""
    to, exact = DECODERS.get(name, (_closest(name, list(DECODER_KWARGS), "contour_distance"),
                                    False))  # fmt: skip
    if exact:
        rep.log(where, "renamed", to)
    else:
        rep.log(where, "untranslated", to, f"volseg has no {name!r}; {to} is the closest")
    return to


def _pair(name: str, v: Any, at: str, rep: Report) -> Any:
    if (
        name == "contour_threshold"
        and isinstance(v, list)
        and len(v) == 2
        and v[1] is not None
        and float(v[1]) > 1.0
    ):
        rep.log(at, "converted", at, f"{v} -> [{v[0]}, null]: a foreground contour threshold "
                "above 1 excludes nothing, which volseg writes as null")  # fmt: skip
        return [v[0], None]
    return v


def decoder_kwargs(name: str, kw: dict[str, Any], at: str, rep: Report) -> dict[str, Any]:
    """One decoder's kwargs mapped; each change logged."""
    table = DECODER_KWARGS[name]
    out: dict[str, Any] = {}
    for k, v in kw.items():
        kat = f"{at}.{k}"
        if k in table:
            out[k] = _pair(k, v, kat, rep) if k in _PAIR_PROB else v
        elif k == "prediction_scale" and v in (1, 1.0):
            rep.log(kat, "dropped", "", f"{SAME}: maps are decoded at their own scale")
        elif k == "hole_size":
            rep.log(kat, "dropped", "", f"{NO_FEATURE}: hole filling inside instances")
        elif k == "threshold_range" and "threshold" in table and isinstance(v, list):
            out["threshold"] = float(v[0])
            rep.log(kat, "untranslated", f"{at}.threshold", f"volseg thresholds once; the "
                    f"lower end {v[0]} is used")  # fmt: skip
        elif k == "connected_components" and isinstance(v, dict):
            if "connectivity" in v and "connectivity" in table:
                out["connectivity"] = {4: 6, 8: 26}.get(v["connectivity"], v["connectivity"])
            if "remove_small" in v and "min_instance_size" in table:
                out["min_instance_size"] = int(v["remove_small"])
            rep.log(
                kat,
                "converted",
                f"{at}.connectivity, min_instance_size",
                "connectivity and small-object removal",
            )
        else:
            near = _closest(k, list(table), "")
            rep.log(
                kat,
                "untranslated",
                f"{at}.{near}" if near else "",
                f"volseg's {name} takes {', '.join(table)}",
            )
    return out


def decoding(key: str, value: Any, rep: Report) -> None:
    """A decoding list (or 2026 ``steps`` with templates) as ``test.decoding``."""
    out = []
    for i, step in enumerate(value or []):
        at = f"{key}[{i}]"
        pytc = str(step.get("name") or step.get("template") or "")
        name = decoder_name(pytc, f"{at}.name", rep)
        kw = decoder_kwargs(name, dict(step.get("kwargs") or {}), f"{at}.kwargs", rep)
        out.append({"name": name, "kwargs": kw})
    rep.set("test.decoding", out)


METRIC_NAMES = {"jaccard": "semantic", "dice": "semantic", "iou": "semantic",
                "adapted_rand": "adapted_rand", "voi": "voi", "f1": "match_instances",
                "ap": "match_instances", "instance": "match_instances"}  # fmt: skip


def metrics(key: str, value: Any, rep: Report) -> None:
    """Evaluation metric names as volseg's score groups."""
    out: list[str] = []
    for m in value or []:
        to = METRIC_NAMES.get(str(m).lower()) or (str(m) if m in METRICS else None)
        if to is None:
            rep.log(f"{key}[{m}]", "untranslated", "test.evaluation.metrics",
                    f"volseg computes {', '.join(METRICS)}")  # fmt: skip
        elif to not in out:
            out.append(to)
            if to != m:
                rep.log(f"{key}[{m}]", "converted", "test.evaluation.metrics", f"{m} -> {to}")
    rep.set("test.evaluation.metrics", out or ["semantic"])


def overlap(key: str, value: Any, rep: Report) -> None:
    """Sliding-window overlap (a fraction below 1)."""
    rep.set("inference.sliding_window.overlap", min(float(value), 0.95))
    if key != "inference.sliding_window.overlap":
        rep.log(key, "renamed", "inference.sliding_window.overlap")


def blending(key: str, value: Any, rep: Report) -> None:
    """Window blending; ``bump`` has no volseg counterpart."""
    if value in ("gaussian", "constant"):
        rep.set("inference.sliding_window.blending", value)
        if key != "inference.sliding_window.blending":
            rep.log(key, "renamed", "inference.sliding_window.blending")
    else:
        rep.set("inference.sliding_window.blending", "gaussian")
        rep.log(
            key,
            "untranslated",
            "inference.sliding_window.blending: gaussian",
            f"volseg has no {value!r} blending",
        )


def stride(key: str, value: Any, rep: Report) -> None:
    """A window stride as the overlap it leaves."""
    window = rep.flat.get("inference.sliding_window.window_size")
    if not (isinstance(window, list) and isinstance(value, list) and len(window) == len(value)):
        rep.log(key, "untranslated", "inference.sliding_window.overlap", "needs window_size")
        return
    ov = round(1.0 - min(s / w for s, w in zip(value, window, strict=True)), 4)
    rep.set("inference.sliding_window.overlap", max(ov, 0.0))
    rep.log(key, "converted", "inference.sliding_window.overlap", f"stride {value} of window "
            f"{window} = overlap {ov} (the smallest per axis)")  # fmt: skip


def flip_axes(key: str, value: Any, rep: Report) -> None:
    """TTA flips: PyTC's null is no flip, ``all`` every combination of spatial axes."""
    two_d = is_2d(rep.flat)
    axes = [1, 2] if two_d else [0, 1, 2]
    if value is None or str(value).lower() == "none":
        new: list[list[int]] = []
    elif value == "all" or value == []:
        new = [list(c) for r in range(1, len(axes) + 1) for c in itertools.combinations(axes, r)]
    else:
        new = [[int(a) + two_d for a in (x if isinstance(x, list) else [x])] for x in value]
    rep.set("inference.test_time_augmentation.flip_axes", new)
    if new != value:
        rep.log(
            key,
            "converted",
            "inference.test_time_augmentation.flip_axes",
            f"{value!r} -> {new} (volseg lists each flip beside the identity)",
        )


def rotation90(key: str, value: Any, rep: Report) -> None:
    """TTA 90-degree rotations: volseg rotates in (y, x) only."""
    if value is None:
        rep.log(key, "dropped", "", f"{SAME}: no rotations")
        return
    rep.set("inference.test_time_augmentation.rotate90", True)
    planes = [[0, 1], [0, 2], [1, 2]] if value == "all" else value
    others = [p for p in planes if sorted(p) != [1, 2]]
    if others:
        rep.log(
            key,
            "untranslated",
            "inference.test_time_augmentation.rotate90",
            f"volseg rotates in the (y, x) plane only; planes {others} are left out",
        )
    else:
        rep.log(key, "converted", "inference.test_time_augmentation.rotate90", "(y, x) plane")


def postprocessing(key: str, value: Any, rep: Report) -> None:
    """Saved-map scaling (255/uint8 = volseg's uint8 maps) and binary post-processing."""
    block = dict(value or {})
    scale, dtype = block.pop("intensity_scale", None), block.pop("intensity_dtype", None)
    if scale is not None or dtype is not None:
        new = "uint8" if dtype == "uint8" or scale == 255 else "float32"
        rep.set("inference.save_prediction.dtype", new)
        rep.log(
            f"{key}.intensity_scale",
            "converted",
            "inference.save_prediction.dtype",
            f"scale {scale}, dtype {dtype} -> {new} (volseg records the quantisation)",
        )
    for k, v in block.items():
        if k == "enabled" and v:
            rep.log(f"{key}.{k}", "dropped", "", f"{SAME}: volseg always saves the maps")
        else:
            rep.log(
                f"{key}.{k}",
                "untranslated",
                "test.decoding",
                f"{NO_FEATURE} for {k}; a decoder's min_instance_size removes small objects",
            )


def test_transform(key: str, value: Any, rep: Report) -> None:
    """Test-time normalisation: volseg normalises every image like the training data."""
    train = rep.flat.get("data.image_transform." + key.rsplit(".", 1)[-1])
    if train == value:
        rep.log(key, "dropped", "", f"{SAME}: test images are normalised like training images")
    else:
        rep.log(
            key,
            "untranslated",
            "data.image_transform",
            "volseg normalises test images like training images",
        )
