"""Cross-field checks of the ``model`` section (on a plain, defaults-filled dict)."""

from __future__ import annotations

import math
from typing import Any

from volseg.config.fields import Param
from volseg.config.schema_data import target_channels
from volseg.config.schema_model import (
    ARCHITECTURE_KEYS,
    DEFAULT_FILTERS,
    LOSS_KWARGS,
    ModelConfig,
    down_factors,
)
from volseg.config.suggest import suggest_key
from volseg.config.typecheck import convert
from volseg.errors import VolsegError
from volseg.losses.monai_args import check_loss_kwargs

_ARCH_SPECIFIC = frozenset().union(*ARCHITECTURE_KEYS.values())


def check_kwargs(
    kwargs: dict[str, Any], table: dict[str, Param], path: str, owner: str, where: str
) -> dict[str, Any]:
    """Check a kwargs mapping against a table of :class:`Param`; return converted values."""
    out = {}
    for key, value in kwargs.items():
        if key not in table:
            hint = suggest_key(f"{path}.{key}", table, [])
            if not table:
                hint = f"; {owner} takes no kwargs."
            raise VolsegError(f"{where}: unknown key `{path}.{key}` for {owner}{hint}")
        p = table[key]
        out[key] = convert(value, p.hint, p.rules, f"{path}.{key}", where)
    return out


def check_model(cfg: dict[str, Any], where: str) -> None:
    """Validate ``cfg["model"]`` against itself and ``cfg["data"]``; fill ``output_size``."""
    m = cfg["model"]
    arch = m["architecture"]
    _check_architecture_keys(m, arch, where)
    _check_shapes(m, arch, where)
    _check_losses(m, where)
    entries = cfg["data"]["label_transform"]["targets"]
    channels = {t["name"]: target_channels(t["name"], t["kwargs"]) for t in entries}
    targets = list(channels)
    _check_multi_task(m, channels, where)
    if targets:
        need = sum(channels.values())
        if m["out_channels"] != need:
            raise VolsegError(
                f"{where}: `model.out_channels` is {m['out_channels']} but "
                f"`data.label_transform.targets` ({', '.join(targets)}) make {need} channel(s)."
            )


def _check_architecture_keys(m: dict[str, Any], arch: str, where: str) -> None:
    defaults = ModelConfig()
    used = ARCHITECTURE_KEYS[arch]
    for key in sorted(_ARCH_SPECIFIC - used):
        if m[key] != getattr(defaults, key):
            raise VolsegError(
                f"{where}: `model.{key}` is not used by architecture {arch}, which accepts "
                f"{', '.join(sorted(used))} besides the common model keys (got {m[key]!r})."
            )


def _check_shapes(m: dict[str, Any], arch: str, where: str) -> None:
    if m["filters"] is None and arch in DEFAULT_FILTERS:
        m["filters"] = list(DEFAULT_FILTERS[arch])
    try:  # the network's own rules and messages (volseg.models.options), not a copy
        factors = down_factors(m)
    except VolsegError as exc:
        raise VolsegError(f"{where}: {exc}") from None
    size = m["input_size"]
    if m["spatial_dims"] == 2 and size[0] != 1:
        raise VolsegError(
            f"{where}: `model.input_size` must start with 1 for a 2D network "
            f"(spatial_dims: 2 works on single z-slices), got {size}."
        )
    total = [math.prod(f[d] for f in factors) for d in range(3)]
    if any(s % t for s, t in zip(size, total, strict=True)):
        raise VolsegError(
            f"{where}: `model.input_size` {size} must be divisible by the total downsampling "
            f"{total} of this {arch}."
        )
    levels = len(factors) + 1
    weights = m["deep_supervision_weights"]
    if m["deep_supervision"] and weights is not None and len(weights) > levels:
        raise VolsegError(
            f"{where}: `model.deep_supervision_weights` has {len(weights)}"
            f" entries but this {arch} has {levels} output scales."
        )
    if m["output_size"] is None:
        m["output_size"] = list(size)
    elif any(o > i for o, i in zip(m["output_size"], size, strict=True)):
        raise VolsegError(
            f"{where}: `model.output_size` {m['output_size']} must not exceed "
            f"`model.input_size` {size}."
        )


def _check_losses(m: dict[str, Any], where: str) -> None:
    names, weights, kwargs = m["loss_functions"], m["loss_weights"], m["loss_kwargs"]
    if len(weights) != len(names):
        raise VolsegError(
            f"{where}: `model.loss_weights` has {len(weights)} entries but "
            f"`model.loss_functions` has {len(names)}; give one weight per loss."
        )
    if kwargs and len(kwargs) != len(names):
        raise VolsegError(
            f"{where}: `model.loss_kwargs` has {len(kwargs)} entries but "
            f"`model.loss_functions` has {len(names)}; give one mapping per loss or none."
        )
    m["loss_kwargs"] = [
        check_kwargs(kw, LOSS_KWARGS[name], f"model.loss_kwargs[{i}]", name, where)
        for i, (name, kw) in enumerate(zip(names, kwargs, strict=False))
    ]
    for i, (name, kw) in enumerate(zip(names, m["loss_kwargs"], strict=False)):
        try:
            check_loss_kwargs(name, kw)
        except VolsegError as exc:
            raise VolsegError(f"{where}: `model.loss_kwargs[{i}]`: {exc}") from None


def _check_multi_task(m: dict[str, Any], targets: dict[str, int], where: str) -> None:
    n_out, n_loss = m["out_channels"], len(m["loss_functions"])
    taken: list[tuple[int, int]] = []
    named: set[str] = set()
    for i, row in enumerate(m["multi_task_config"]):
        path = f"`model.multi_task_config[{i}]`"
        ok = isinstance(row, list) and len(row) == 4
        ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in row[:2])
        ok = ok and isinstance(row[2], str) and isinstance(row[3], list) and len(row[3]) > 0
        ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in row[3])
        if not ok:
            raise VolsegError(
                f"{where}: {path} must be [start_ch, end_ch, target_name, [loss indices]], "
                f"got {row!r}."
            )
        start, end, name, losses = row
        if not 0 <= start < end <= n_out:
            raise VolsegError(
                f"{where}: {path} channel range {start}:{end} must lie within "
                f"0:{n_out} (model.out_channels) and not be empty."
            )
        if any(start < e and s < end for s, e in taken):
            raise VolsegError(f"{where}: {path} channels {start}:{end} overlap another row.")
        taken.append((start, end))
        if name not in targets:
            raise VolsegError(
                f"{where}: {path} target {name!r} is not one of the label targets "
                f"({', '.join(targets) or 'none'}) in `data.label_transform.targets`."
            )
        if name in named:
            raise VolsegError(f"{where}: {path} repeats target {name!r}; give each target one row.")
        named.add(name)
        if end - start != targets[name]:
            per = " (one per offset)" if name == "affinity" else ""
            raise VolsegError(
                f"{where}: {path} gives target {name!r} {end - start} channels; "
                f"it has {targets[name]}{per}."
            )
        bad = [j for j in losses if not 0 <= j < n_loss]
        if bad:
            raise VolsegError(
                f"{where}: {path} loss index {bad[0]} is out of range; "
                f"`model.loss_functions` has {n_loss} entries (0..{n_loss - 1})."
            )
    free = [c for c in range(n_out) if taken and not any(s <= c < e for s, e in taken)]
    if free:
        raise VolsegError(
            f"{where}: `model.multi_task_config` leaves output channel(s) "
            f"{', '.join(map(str, free))} without a loss; give every channel a row."
        )
