"""Converters for PyTC's Optuna ``tune``/``tuning`` blocks and Slurm-launcher ``params``.

volseg's ``tune`` sweeps decoder settings over a grid or a random sample of it. Optuna's
TPE sampler, pruning and study storage have no counterpart; a ranged parameter becomes
``{low, high, num}`` with ``num`` from its step (10 values without one).
"""

from __future__ import annotations

from typing import Any

from volseg.config.migrate.convert_test import decoder_kwargs, decoder_name
from volseg.config.migrate.rule import NO_FEATURE, SAME
from volseg.config.migrate.table import Report
from volseg.config.schema_decode import DECODER_KWARGS

OBJECTIVES = {"adapted_rand": "are_ignore_bg", "are": "are_ignore_bg", "voi": "voi",
              "voi_sum": "voi", "f1": "f1@0.5", "ap": "ap@0.5", "jaccard": "fg_iou",
              "iou": "fg_iou", "dice": "fg_dice"}  # fmt: skip
_DEFAULT_NUM = 10


def _bounds(decoder: str, name: str) -> tuple[float | None, float | None]:
    param = DECODER_KWARGS[decoder].get(name)
    rules = dict(param.rules) if param else {}
    return rules.get("lo"), rules.get("hi")


def space(
    decoder: str, name: str, kind: str, rng: list[Any], step: Any, at: str, rep: Report
) -> Any:
    """A volseg sweep space for one PyTC range, clipped to the decoder's valid values."""
    if kind == "categorical":
        return list(rng)
    low, high = float(rng[0]), float(rng[1])
    lo, hi = _bounds(decoder, name)
    if (lo is not None and low < lo) or (hi is not None and high > hi):
        new_low = max(low, lo) if lo is not None else low
        new_high = min(high, hi) if hi is not None else high
        rep.log(at, "untranslated", f"tune.parameters.{name}", f"range {rng} leaves volseg's "
                f"valid [{lo}, {hi}]; swept over [{new_low}, {new_high}]")  # fmt: skip
        low, high = new_low, new_high
    if kind == "int":
        s = int(step or 1)
        values = list(range(int(low), int(high) + 1, s))
        return values if step else {"low": int(low), "high": int(high), "num": _DEFAULT_NUM}
    num = int(round((high - low) / float(step))) + 1 if step else _DEFAULT_NUM
    return {"low": low, "high": high, "num": max(num, 1)}


def _objective(metric: Any, at: str, rep: Report) -> None:
    to = OBJECTIVES.get(str(metric).lower())
    if to is None:
        rep.log(
            at,
            "untranslated",
            "tune.metric",
            f"volseg has no {metric!r} objective "
            "(skeleton metrics need skeletons volseg does not read); voi is the closest",
        )
        rep.set("tune.metric", "voi")
        return
    rep.set("tune.metric", to)
    rep.log(at, "converted", "tune.metric", f"{metric!r} -> {to!r}")


def _each_leaf(prefix: str, node: Any, action: str, target: str, why: str, rep: Report) -> None:
    if isinstance(node, dict) and node:
        for k, v in node.items():
            _each_leaf(f"{prefix}.{k}", v, action, target, why, rep)
    else:
        rep.log(prefix, action, target, why)


def tune(key: str, value: Any, rep: Report) -> None:
    """PyTC's Optuna ``tune`` block as volseg's ``tune`` sweep."""
    t = dict(value or {})
    decoding = ((t.pop("parameter_space", None) or {}).get("decoding")) or {}
    for k, v in t.items():
        at = f"{key}.{k}"
        if k == "enabled":
            rep.log(at, "dropped", "", f"{SAME}: volseg sweeps when `volseg decode --sweep` runs")
        elif k == "n_trials":
            rep.set("tune.method", "random")
            rep.set("tune.num_samples", int(v))
            rep.log(
                at,
                "converted",
                "tune.method: random, tune.num_samples",
                "Optuna trials as a random sample of the grid",
            )
        elif k == "sampler":
            rep.log(at, "untranslated", "tune.method: random", "volseg samples at random, "
                    "without TPE's model of past trials")  # fmt: skip
        elif k == "timeout" and v is None:
            rep.log(at, "dropped", "", f"{SAME}: no time limit")
        elif k == "optimization":
            single = (v or {}).get("single_objective") or {}
            if "metric" in single:
                _objective(single["metric"], f"{at}.single_objective.metric", rep)
            if (v or {}).get("mode", "single") != "single":
                rep.log(f"{at}.mode", "untranslated", "tune.metric", "volseg optimises one "
                        "objective")  # fmt: skip
            rep.log(
                f"{at}.single_objective.direction",
                "dropped",
                "",
                f"{SAME}: each volseg objective knows its direction",
            )
        elif k == "data":
            _each_leaf(at, v, "untranslated", "test.data", "`volseg decode --sweep` takes maps "
                       "and labels on the command line (--gt, --mask)", rep)  # fmt: skip
        elif k in ("output", "logging", "pruner", "study_name", "storage", "load_if_exists"):
            _each_leaf(
                at,
                v,
                "dropped",
                "",
                f"{NO_FEATURE}: Optuna study storage, pruning "
                "and reports; volseg writes sweep.csv and thresholds.json",
                rep,
            )
        else:
            rep.log(at, "untranslated", "tune", "no volseg sweep option")
    if decoding:
        _decoding_space(f"{key}.parameter_space.decoding", decoding, rep)


def _decoding_space(at: str, d: dict[str, Any], rep: Report) -> None:
    name = decoder_name(str(d.get("function_name", "")), f"{at}.function_name", rep)
    rep.set("tune.decoder", name)
    if d.get("defaults"):
        kw = decoder_kwargs(name, dict(d["defaults"]), f"{at}.defaults", rep)
        if "test.decoding" in rep.flat:
            rep.log(f"{at}.defaults", "dropped", "", f"{SAME}: the sweep's fixed values come "
                    "from test.decoding[0], which the file sets")  # fmt: skip
        else:
            rep.set("test.decoding", [{"name": name, "kwargs": kw}])
            rep.log(
                f"{at}.defaults", "converted", "test.decoding[0].kwargs", "the sweep's fixed values"
            )
    params: dict[str, Any] = {}
    for pname, p in (d.get("parameters") or {}).items():
        pat = f"{at}.parameters.{pname}"
        group, index = p.get("param_group"), p.get("tuple_index")
        name_to = f"{group}.{index}" if group and index is not None else pname
        base = str(group or pname)
        if base not in DECODER_KWARGS[name]:
            rep.log(pat, "untranslated", "tune.parameters", f"{name} has no {base}")
            continue
        before = len(rep.rows)
        params[name_to] = space(
            name, base, str(p.get("type", "float")), p.get("range"), p.get("step"), pat, rep
        )
        if len(rep.rows) == before:  # clipped ranges are reported by space() already
            rep.log(pat, "converted", f"tune.parameters.{name_to}", "Optuna range as a sweep space")
        if p.get("log"):
            rep.log(f"{pat}.log", "untranslated", "", "volseg spaces values evenly")
    rep.set("tune.parameters", params)
    for k in d:
        if k not in ("function_name", "defaults", "parameters", "enabled"):
            rep.log(f"{at}.{k}", "untranslated", "tune", "no volseg sweep option")


def tuning(key: str, value: Any, rep: Report) -> None:
    """PyTC 2025's threshold-tuning block (with ``postprocess.function``) as a sweep."""
    t = dict(value or {})
    func = str(rep.flat.get("postprocess.function", "decode_affinity_cc"))
    name = decoder_name(func, "postprocess.function", rep)
    rep.set("tune.decoder", name)
    method = str(t.pop("method", "grid_search"))
    rep.set("tune.method", "grid" if method == "grid_search" else "random")
    rep.log(f"{key}.method", "converted", "tune.method", f"{method!r} -> "
            f"{'grid' if method == 'grid_search' else 'random'!r}")  # fmt: skip
    params: dict[str, Any] = {}
    multiple = bool(t.pop("optimize_multiple", False))
    rep.log(
        f"{key}.optimize_multiple",
        "converted",
        "tune.parameters",
        "param_space swept" if multiple else "threshold only swept",
    )
    for k, v in t.items():
        at = f"{key}.{k}"
        if k == "metric":
            _objective(v, at, rep)
        elif k == "n_trials":
            rep.set("tune.num_samples", int(v))
            rep.log(at, "renamed", "tune.num_samples")
        elif k == "threshold_range" and method != "grid_search" and not multiple:
            params["threshold"] = space(name, "threshold", "float", v, None, at, rep)
            rep.log(at, "converted", "tune.parameters.threshold", "a range of 10 values")
        elif k == "grid_thresholds" and method == "grid_search" and not multiple:
            params["threshold"] = list(v)
            rep.log(at, "renamed", "tune.parameters.threshold")
        elif k == "param_space" and multiple:
            for pname, rng in (v or {}).items():
                if pname in DECODER_KWARGS[name]:
                    kind = "int" if all(isinstance(x, int) for x in rng) else "float"
                    params[pname] = space(name, pname, kind, rng, None, f"{at}.{pname}", rep)
                    rep.log(f"{at}.{pname}", "converted", f"tune.parameters.{pname}", "range")
                else:
                    rep.log(
                        f"{at}.{pname}", "untranslated", "tune.parameters", f"{name} has no {pname}"
                    )
        else:
            rep.log(at, "dropped", "", f"{SAME}: not used with method {method!r} and "
                    f"optimize_multiple {multiple}")  # fmt: skip
    rep.set("tune.parameters", params)


def postprocess_block(key: str, value: Any, rep: Report) -> None:
    """PyTC 2025's ``postprocess`` block (the tuned decoder and its fixed options)."""
    k = key.split(".", 1)[1]
    if k == "function":
        if "tuning" not in rep.flat:
            name = decoder_name(str(value), key, rep)
            rep.set("test.decoding", [{"name": name, "kwargs": {}}])
    elif k == "use_numba":
        rep.log(key, "dropped", "", f"{SAME}: volseg's decoders are always compiled")
    elif k == "scale_factors" and all(float(s) == 1.0 for s in value):
        rep.log(key, "dropped", "", f"{SAME}: maps are decoded at their own scale")
    else:
        rep.log(key, "untranslated", "test.decoding", "no volseg decoder option")


#: Slurm-launcher sweep parameters -> the volseg key a single value sets.
_LAUNCH = {
    "batch_size": "system.training.batch_size",
    "learning_rate": "optimization.optimizer.lr",
    "max_epochs": "optimization.max_epochs",
    "num_gpus": "system.training.num_gpus",
    "num_cpus": "system.training.num_cpus",
}


def launcher_params(key: str, value: Any, rep: Report) -> None:
    """A Slurm launcher's Cartesian sweep of training settings (one job per combination)."""
    for k, v in (value or {}).items():
        at = f"{key}.{k}"
        values = v if isinstance(v, list) else [v]
        if k in ("memory", "time_limit"):
            rep.log(at, "dropped", "", f"{NO_FEATURE}: Slurm job resources")
        elif k == "config_path":
            rep.log(at, "dropped", "", f"{SAME}: the base config is `base_config`")
        elif k in _LAUNCH and len(values) == 1:
            rep.set(_LAUNCH[k], values[0])
            rep.log(at, "converted", _LAUNCH[k], "the one value of the sweep")
        else:
            rep.log(at, "untranslated", _LAUNCH.get(k, ""), "volseg's tune sweeps decoder "
                    f"settings only; run one `volseg fit` per value ({values}) with "
                    f"`{_LAUNCH.get(k, k)}=...`")  # fmt: skip
