"""Parameter spaces for decoder sweeps: names, value lists, grid and random expansion.

A space maps a keyword option of the decoder (``threshold``, ``min_instance_size``) or one
element of a ``[seed, fg]`` pair option (``binary_threshold.seed``, also written
``binary_threshold.0``) to a list of values or to ``{low, high, num}``. Which options exist,
which are pairs and which take whole numbers is read from the decoder's option table
(:data:`volseg.config.schema_decode.DECODER_KWARGS`), so every decoder is sweepable by the
same code.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from volseg.config.schema_decode import DECODER_KWARGS
from volseg.errors import VolsegError

PAIR_SLOTS = {"seed": 0, "fg": 1, "0": 0, "1": 1}


def _table(decoder: str) -> dict[str, Any]:
    if decoder not in DECODER_KWARGS:
        raise VolsegError(f"unknown decoder {decoder!r}; valid: {', '.join(DECODER_KWARGS)}.")
    return DECODER_KWARGS[decoder]


def _is_pair(decoder: str, name: str) -> bool:
    return _table(decoder)[name].rules.get("length") == 2 and name != "channels"


def _is_whole(decoder: str, name: str) -> bool:
    hint = _table(decoder)[name].hint
    return hint is int


def parameter_names(decoder: str = "contour_distance") -> list[str]:
    """The sweepable parameters of ``decoder``, as written in a space."""
    names = []
    for name in _table(decoder):
        if name in ("channels", "channel", "parallel", "levels", "offsets", "strides"):
            continue  # which map, and how fast: not decoder settings to tune
        names += [f"{name}.seed", f"{name}.fg"] if _is_pair(decoder, name) else [name]
    return names


def _values(name: str, spec: Any, *, whole: bool) -> list[Any]:
    if isinstance(spec, Mapping):
        if set(spec) != {"low", "high", "num"}:
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
    if whole:
        bad = [v for v in values if v is None or int(v) != v or int(v) < 0]
        if bad:
            raise VolsegError(f"tune parameter `{name}` takes whole numbers >= 0, got {bad[0]!r}.")
        values = [int(v) for v in values]
    return values


def normalise_space(
    space: Mapping[str, Any], decoder: str = "contour_distance"
) -> dict[str, list[Any]]:
    """Check names against ``decoder``'s options and expand value specs into lists."""
    if not space:
        raise VolsegError("the tune space is empty: give at least one parameter to sweep.")
    valid = parameter_names(decoder)
    out: dict[str, list[Any]] = {}
    for name, spec in space.items():
        base, _, slot = str(name).partition(".")
        table = _table(decoder)
        pair = base in table and _is_pair(decoder, base)
        ok = base in table and ((pair and slot in PAIR_SLOTS) or (not pair and not slot))
        if not ok or (not slot and base not in valid):
            hint = difflib.get_close_matches(str(name), valid, n=1)
            tip = f"; did you mean `{hint[0]}`?" if hint else f"; valid: {', '.join(valid)}"
            raise VolsegError(f"unknown tune parameter `{name}` for decoder {decoder}{tip}")
        key = f"{base}.{'seed' if PAIR_SLOTS[slot] == 0 else 'fg'}" if slot else base
        if key in out:
            raise VolsegError(f"tune parameter `{key}` is given twice.")
        out[key] = _values(key, spec, whole=_is_whole(decoder, base))
    return out


def decoder_defaults(decoder: str) -> dict[str, Any]:
    """The keyword defaults of the decoder function itself (the one source of its defaults)."""
    from volseg.decode.registry import DECODERS

    sig = inspect.signature(DECODERS[decoder])
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty
    }


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
