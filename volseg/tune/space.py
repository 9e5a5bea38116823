"""Parameter spaces for decoder sweeps: names, value lists, grid and random expansion."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from volseg.errors import VolsegError

PAIR_PARAMS = ("binary_threshold", "contour_threshold", "distance_threshold")
SCALAR_PARAMS = ("min_seed_size", "min_instance_size")
PAIR_SLOTS = {"seed": 0, "fg": 1, "0": 0, "1": 1}


def parameter_names() -> list[str]:
    """The sweepable contour-distance parameters, as written in a space."""
    names = [f"{p}.{slot}" for p in PAIR_PARAMS for slot in ("seed", "fg")]
    return names + list(SCALAR_PARAMS)


def _values(name: str, spec: Any) -> list[Any]:
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"low", "high", "num"}
        if unknown or not {"low", "high", "num"} <= set(spec):
            raise VolsegError(
                f"tune parameter `{name}` must be a list of values or {{low, high, num}}, "
                f"got keys {sorted(spec)}."
            )
        num = int(spec["num"])
        if num < 1:
            raise VolsegError(f"tune parameter `{name}`: num must be >= 1, got {num}.")
        values = np.linspace(float(spec["low"]), float(spec["high"]), num)
        values = [round(float(v), 6) for v in values]
    elif isinstance(spec, list | tuple):
        values = list(spec)
    else:
        values = [spec]
    if not values:
        raise VolsegError(f"tune parameter `{name}` has no values.")
    if name.split(".")[0] in SCALAR_PARAMS:
        bad = [v for v in values if v is None or int(v) != v or int(v) < 0]
        if bad:
            raise VolsegError(f"tune parameter `{name}` takes whole numbers >= 0, got {bad[0]!r}.")
        values = [int(v) for v in values]
    return values


def normalise_space(space: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Check names and expand value specs into lists, keeping the given order."""
    if not space:
        raise VolsegError("the tune space is empty: give at least one parameter to sweep.")
    out: dict[str, list[Any]] = {}
    valid = parameter_names()
    for name, spec in space.items():
        base, _, slot = str(name).partition(".")
        ok = (base in SCALAR_PARAMS and not slot) or (base in PAIR_PARAMS and slot in PAIR_SLOTS)
        if not ok:
            import difflib

            hint = difflib.get_close_matches(str(name), valid, n=1)
            tip = f"; did you mean `{hint[0]}`?" if hint else f"; valid: {', '.join(valid)}"
            raise VolsegError(f"unknown tune parameter `{name}`{tip}")
        key = f"{base}.{'seed' if PAIR_SLOTS[slot] == 0 else 'fg'}" if slot else base
        if key in out:
            raise VolsegError(f"tune parameter `{key}` is given twice.")
        out[key] = _values(key, spec)
    return out


def apply_setting(base: Mapping[str, Any], setting: Mapping[str, Any]) -> dict[str, Any]:
    """Decoder kwargs: ``base`` with the swept values of one setting written in."""
    params = dict(base)
    for name, value in setting.items():
        head, _, slot = name.partition(".")
        if slot:
            pair = list(params.get(head) or (None, None))
            pair[PAIR_SLOTS[slot]] = None if value is None else float(value)
            params[head] = tuple(pair)
        else:
            params[head] = value
    return params


def expand(
    space: Mapping[str, list[Any]],
    *,
    method: str = "grid",
    num_samples: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """All grid settings, or ``num_samples`` distinct random ones drawn from the grid."""
    names = list(space)
    grid = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*space.values())]
    if method == "grid":
        return grid
    if method != "random":
        raise VolsegError(f"tune method must be 'grid' or 'random', got {method!r}.")
    if not num_samples or num_samples < 1:
        raise VolsegError("random search needs num_samples >= 1.")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(grid), size=min(num_samples, len(grid)), replace=False)
    return [grid[i] for i in sorted(pick)]
