"""Cross-field checks of a whole config (plain dict with every default filled in).

Per-key types and ranges are checked on reading (:mod:`volseg.config.typecheck`); here come the
rules that tie keys together, the per-component key tables, and the filling of derived values
(``data.patch_size``, ``model.output_size``, ``inference.sliding_window.window_size``).
"""

from __future__ import annotations

import typing
from typing import Any

from volseg.config.duration import parse_duration
from volseg.config.schema_data import TARGET_KWARGS, target_channels
from volseg.config.schema_decode import DECODER_KWARGS
from volseg.config.schema_run import (
    OPTIMIZER_KEYS,
    SCHEDULER_KEYS,
    OptimizerConfig,
    SchedulerConfig,
)
from volseg.config.suggest import suggest_key
from volseg.config.typecheck import convert, is_optional
from volseg.config.validate_model import check_kwargs, check_model
from volseg.errors import VolsegError


def validate(cfg: dict[str, Any], where: str) -> dict[str, Any]:
    """Check the rules between keys; fill derived values in place and return ``cfg``."""
    _check_targets(cfg, where)
    check_model(cfg, where)
    _check_data(cfg, where)
    _check_optimization(cfg["optimization"], where)
    _check_inference(cfg, where)
    _check_test(cfg, where)
    _check_tune(cfg["tune"], where)
    _check_selftrain(cfg["selftrain"], where)
    return cfg


def _check_targets(cfg: dict[str, Any], where: str) -> None:
    seen: set[str] = set()
    for i, t in enumerate(cfg["data"]["label_transform"]["targets"]):
        path = f"data.label_transform.targets[{i}].kwargs"
        t["kwargs"] = check_kwargs(t["kwargs"], TARGET_KWARGS[t["name"]], path, t["name"], where)
        if t["name"] in seen:
            raise VolsegError(
                f"{where}: `data.label_transform.targets` lists {t['name']!r} twice; "
                "each target may appear once."
            )
        seen.add(t["name"])
        if t["name"] == "affinity":
            _check_affinity(cfg, t["kwargs"], path, where)


def _check_affinity(cfg: dict[str, Any], kwargs: dict[str, Any], path: str, where: str) -> None:
    """Offsets parse (known preset, whole non-zero triples) and fit in the training patch."""
    from volseg.channels import affinity_offsets
    from volseg.offsets import check_fit

    if not cfg["model"]["multi_task_config"]:
        raise VolsegError(
            f"{where}: an affinity target needs `model.multi_task_config` naming it, e.g. "
            "[[0, N, affinity, [0, 1]]] for N offsets, so that predictions know which channels "
            "are affinities."
        )
    grid = cfg["data"]["train_resolution"]
    try:
        target_channels("affinity", kwargs)
        if kwargs.get("unit") == "nm" and grid is None:
            return  # the training grid is the data's own: checked when the data is read
        offsets = affinity_offsets(kwargs, voxel_size=grid)
        check_fit(offsets, cfg["model"]["input_size"], what="training patch (model.input_size)")
    except VolsegError as exc:
        raise VolsegError(f"{where}: `{path}.offsets`: {exc}") from None


def _check_paths(section: dict[str, Any], prefix: str, names: list[str], where: str) -> None:
    """Labels and masks, when given, pair one to one with the images."""
    image = section[names[0]]
    for name in names[1:]:
        other = section[name]
        if other and len(other) != len(image):
            raise VolsegError(
                f"{where}: `{prefix}.{name}` has {len(other)} path(s) but "
                f"`{prefix}.{names[0]}` has {len(image)}; give one per image."
            )


def _check_data(cfg: dict[str, Any], where: str) -> None:
    d, size = cfg["data"], cfg["model"]["input_size"]
    _check_paths(d, "data", ["train_image", "train_label", "train_mask"], where)
    _check_paths(d, "data", ["val_image", "val_label", "val_mask"], where)
    region = d["val_region"]
    if region is not None:
        is_num = isinstance(region, int | float) and not isinstance(region, bool)
        is_range = (
            isinstance(region, list)
            and len(region) == 2
            and all(isinstance(z, int) and not isinstance(z, bool) for z in region)
            and 0 <= region[0] < region[1]
        )
        is_box = (
            isinstance(region, list)
            and len(region) == 3
            and all(
                isinstance(r, list)
                and len(r) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in r)
                and 0 <= r[0] < r[1]
                for r in region
            )
        )
        if not ((is_num and 0 < region < 1) or is_range or is_box):
            raise VolsegError(
                f"{where}: `data.val_region` must be null, a fraction in (0, 1), a z-range "
                f"[z0, z1] with 0 <= z0 < z1, or a box [[z0, z1], [y0, y1], [x0, x1]], got "
                f"{region!r}."
            )
        if d["val_image"]:
            raise VolsegError(
                f"{where}: give either `data.val_image` or `data.val_region`, not both."
            )
    if d["patch_size"] is None:
        d["patch_size"] = list(size)
    elif d["patch_size"] != size:
        raise VolsegError(
            f"{where}: `data.patch_size` {d['patch_size']} must equal `model.input_size` "
            f"{size} (patches go to the network as they are)."
        )
    it = d["image_transform"]
    if it["clip_percentile_low"] >= it["clip_percentile_high"]:
        raise VolsegError(
            f"{where}: `data.image_transform.clip_percentile_low` must be below "
            f"`clip_percentile_high`, got {it['clip_percentile_low']} and "
            f"{it['clip_percentile_high']}."
        )
    aug = d["augmentation"]
    axes = aug["rotate90"]["spatial_axes"]
    if axes[0] == axes[1]:
        raise VolsegError(
            f"{where}: `data.augmentation.rotate90.spatial_axes` must name two different "
            f"axes, got {axes}."
        )
    lo, hi = aug["intensity"]["contrast_range"]
    if lo > hi:
        raise VolsegError(
            f"{where}: `data.augmentation.intensity.contrast_range` must be [low, high] with "
            f"low <= high, got {[lo, hi]}."
        )


def _check_component_keys(
    section: dict, defaults: object, table: dict, path: str, where: str
) -> None:
    every = set().union(*table.values())
    used = table[section["name"]]
    for key in sorted(every - used):
        if section[key] != getattr(defaults, key):
            accepts = ", ".join(sorted(used)) or "none of them"
            raise VolsegError(
                f"{where}: `{path}.{key}` is not used by {section['name']}, which accepts "
                f"{accepts} (got {section[key]!r})."
            )


def _check_optimization(o: dict[str, Any], where: str) -> None:
    o["max_time"] = parse_duration(o["max_time"], key="optimization.max_time", where=where)
    _check_component_keys(
        o["optimizer"], OptimizerConfig(), OPTIMIZER_KEYS, "optimization.optimizer", where
    )
    _check_component_keys(
        o["scheduler"], SchedulerConfig(), SCHEDULER_KEYS, "optimization.scheduler", where
    )
    s = o["scheduler"]
    if s["name"] == "warmup_cosine" and s["warmup_epochs"] >= o["max_epochs"]:
        raise VolsegError(
            f"{where}: `optimization.scheduler.warmup_epochs` ({s['warmup_epochs']}) must be "
            f"below `optimization.max_epochs` ({o['max_epochs']})."
        )
    if s["name"] in ("warmup_cosine", "cosine", "reduce_on_plateau"):
        if s["min_lr"] >= o["optimizer"]["lr"]:
            raise VolsegError(
                f"{where}: `optimization.scheduler.min_lr` ({s['min_lr']}) must be below "
                f"`optimization.optimizer.lr` ({o['optimizer']['lr']})."
            )


def _check_inference(cfg: dict[str, Any], where: str) -> None:
    inf, model = cfg["inference"], cfg["model"]
    sw = inf["sliding_window"]
    if sw["window_size"] is None:
        sw["window_size"] = list(model["input_size"])
    if model["spatial_dims"] == 2 and sw["window_size"][0] != 1:
        raise VolsegError(
            f"{where}: `inference.sliding_window.window_size` must start with 1 for a 2D "
            f"network, got {sw['window_size']}."
        )
    tta = inf["test_time_augmentation"]
    for i, axes in enumerate(tta["flip_axes"]):
        path = f"inference.test_time_augmentation.flip_axes[{i}]"
        ok = isinstance(axes, list) and len(axes) > 0 and len(set(axes)) == len(axes)
        if not ok or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
            raise VolsegError(
                f"{where}: `{path}` must be a non-empty list of distinct spatial axes "
                f"(0 = z, 1 = y, 2 = x), got {axes!r}."
            )
        if any(not 0 <= a <= 2 for a in axes):
            raise VolsegError(
                f"{where}: `{path}` must hold spatial axes 0..2 (z, y, x) only, got {axes}; "
                "the channel axis is never flipped."
            )
    if tta["enabled"] and not tta["flip_axes"] and not tta["rotate90"]:
        raise VolsegError(
            f"{where}: `inference.test_time_augmentation` is enabled but has no `flip_axes` "
            "and no `rotate90`; there is nothing to augment."
        )


def _check_test(cfg: dict[str, Any], where: str) -> None:
    t = cfg["test"]
    _check_paths(t["data"], "test.data", ["test_image", "test_label", "test_mask"], where)
    for i, dec in enumerate(t["decoding"]):
        path = f"test.decoding[{i}].kwargs"
        dec["kwargs"] = check_kwargs(
            dec["kwargs"], DECODER_KWARGS[dec["name"]], path, dec["name"], where
        )
        for key in ("channels", "channel"):
            value = dec["kwargs"].get(key)
            used = [c for c in (value if isinstance(value, list) else [value]) if c is not None]
            if used and max(used) >= cfg["model"]["out_channels"]:
                raise VolsegError(
                    f"{where}: `{path}.{key}` {value} must index the "
                    f"{cfg['model']['out_channels']} output channels (model.out_channels)."
                )

    from volseg.decode.affinity_settings import complete_config

    complete_config(cfg, where)


def _check_tune(tune: dict[str, Any], where: str) -> None:
    table = DECODER_KWARGS[tune["decoder"]]
    checked = {}
    for key, space in tune["parameters"].items():
        path = f"tune.parameters.{key}"
        name, _, index = key.partition(".")
        index = {"seed": "0", "fg": "1"}.get(index, index)  # [seed, fg] pairs by name
        if name not in table:
            hint = suggest_key(f"tune.parameters.{name}", table, [])
            raise VolsegError(f"{where}: unknown key `{path}` for decoder {tune['decoder']}{hint}")
        p = table[name]
        hint, rules = p.hint, dict(p.rules)
        if index:
            length = rules.pop("length", None)
            if length is None or not index.isdigit() or int(index) >= length:
                raise VolsegError(
                    f"{where}: `{path}` names element {index!r} of {name}, which "
                    f"{'has elements 0..' + str(length - 1) if length else 'is not a list'}."
                )
            hint = typing.get_args(is_optional(hint)[1])[0]
        checked[key] = _check_space(space, hint, rules, path, where)
    tune["parameters"] = checked


def _check_space(space: Any, hint: Any, rules: dict, path: str, where: str) -> Any:
    if isinstance(space, list):
        if not space:
            raise VolsegError(f"{where}: `{path}` must list at least one value.")
        return [convert(v, hint, rules, f"{path}[{i}]", where) for i, v in enumerate(space)]
    if isinstance(space, dict):
        for key in space:
            if key not in ("low", "high", "num"):
                hint_words = suggest_key(f"{path}.{key}", ["low", "high", "num"], [])
                raise VolsegError(f"{where}: unknown key `{path}.{key}`{hint_words}")
        if set(space) != {"low", "high", "num"}:
            raise VolsegError(
                f"{where}: `{path}` must be a list of values or {{low, high, num}}, got {space!r}."
            )
        number = is_optional(hint)[1]
        if number not in (int, float):
            raise VolsegError(
                f"{where}: `{path}` takes a list of values; {{low, high, num}} is for numbers."
            )
        low = convert(space["low"], number, rules, f"{path}.low", where)
        high = convert(space["high"], number, rules, f"{path}.high", where)
        num = convert(space["num"], int, {"lo": 1}, f"{path}.num", where)
        if low > high:
            raise VolsegError(f"{where}: `{path}` has low {low} above high {high}.")
        return {"low": low, "high": high, "num": num}
    raise VolsegError(
        f"{where}: `{path}` must be a list of values or {{low, high, num}}, got {space!r}."
    )


def _check_selftrain(st: dict[str, Any], where: str) -> None:
    """Every iteration keeps ``t_lo < t_hi`` (checking both ends suffices: the schedule is
    linear between them)."""
    for end, lo, hi in zip(("first", "last"), st["t_lo"], st["t_hi"], strict=True):
        if lo >= hi:
            raise VolsegError(
                f"{where}: `selftrain.t_lo` {lo} must be below `selftrain.t_hi` {hi} "
                f"(their {end} values), or no voxel is ignored between them."
            )
        if st["thresholds"] == "class_balanced" and not lo < 0.5 <= hi:
            raise VolsegError(
                f"{where}: class-balanced self-training splits the classes at 0.5, so "
                f"`selftrain.t_lo` {lo} must be below 0.5 and `selftrain.t_hi` {hi} at least "
                f"0.5 (their {end} values)."
            )
