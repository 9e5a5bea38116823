"""Checkpoints: atomic save, ``weights_only`` load, rebuild, external weights.

A checkpoint is a plain dict that ``torch.load(weights_only=True)`` can read: tensors, state
dicts, numbers and strings only. The model section is stored as a primitive dict (to rebuild
the network) and the full resolved config as YAML text (to know exactly what ran), following
torch-em's practice of keeping constructor arguments with the weights.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

import volseg
from volseg.atomic import atomic_write
from volseg.errors import VolsegError
from volseg.models import _config as C

FORMAT = "volseg-checkpoint-1"
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
SHOWN = 3


def _state(obj: Any) -> Any:
    return None if obj is None else obj.state_dict()


def _yaml(config: Any) -> str:
    return yaml.safe_dump(C.plain(config) if config is not None else {}, sort_keys=False)


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: nn.Module,
    model_cfg: Any,
    config: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    ema: Any = None,
    scaler: Any = None,
    loss_module: nn.Module | None = None,
    epoch: int,
    step: int,
    best_metric: float | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically: a temp file in the same directory, fsynced, then renamed
    (:func:`volseg.atomic.atomic_write`).

    If anything fails (serialisation, disk full), the temp file is removed and an existing
    checkpoint at ``path`` is left untouched.

    Args:
        path: destination file (its directory is created).
        model: the network; its ``state_dict`` is stored.
        model_cfg: the model section (stored as a primitive dict, enough to rebuild the model).
        config: the full resolved config (stored as YAML text).
        optimizer, scheduler, ema, scaler, loss_module: optional objects with ``state_dict``.
        epoch: epoch counter.
        step: optimizer step counter.
        best_metric: best validation score so far.
        extra: further primitive values (numbers, strings, lists, dicts, tensors).

    Returns:
        The checkpoint path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "volseg_version": str(volseg.__version__),
        "torch_version": str(torch.__version__),
        "model_state": model.state_dict(),
        "model_cfg": C.to_dict(model_cfg),
        "config_yaml": _yaml(config),
        "optimizer_state": _state(optimizer),
        "scheduler_state": _state(scheduler),
        "ema_state": _state(ema),
        "scaler_state": _state(scaler),
        "loss_state": _state(loss_module),
        "epoch": int(epoch),
        "step": int(step),
        "best_metric": None if best_metric is None else float(best_metric),
        "extra": C.plain(dict(extra or {})),
    }
    return atomic_write(path, lambda tmp: torch.save(payload, tmp), durable=True)


def _torch_load(path: Path, map_location: Any, what: str) -> Any:
    if path.is_file() and path.stat().st_size == 0:
        raise VolsegError(
            f"cannot read {what} {path}: the file is empty (an interrupted copy?); use another "
            "copy or checkpoint (e.g. best.pt beside it)."
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise VolsegError(f"cannot read {what} {path}: {_load_reason(exc)}") from None


def _load_reason(exc: Exception) -> str:
    """One clause from torch's page-long message. Its advice to retry with
    ``weights_only=False`` is left out: that would run whatever code the file holds."""
    text = str(exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "unsupported GLOBAL" in text:
        blocked = next(ln for ln in lines if "unsupported GLOBAL" in ln)
        detail = blocked.removeprefix("Trying to load ").rstrip(".")
        return (
            f"it holds Python objects other than tensors and settings ({detail}), which volseg "
            "never loads because they could run code; use a checkpoint written by volseg."
        )
    if "Unpickler error" in text or "Weights only load failed" in text:
        return "it is not a torch checkpoint (unreadable pickle data); use another copy."
    first = lines[0].split(". ")[0].rstrip(".") if lines else type(exc).__name__
    return f"it is not a readable torch file ({first}); use another copy or checkpoint."


def load_checkpoint(path: str | os.PathLike[str], map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(weights_only=True)`` (no arbitrary code runs).

    Returns:
        The checkpoint dict; ``config_yaml`` is parsed into ``config`` (a plain dict).
    """
    path = Path(path)
    if not path.is_file():
        raise VolsegError(f"checkpoint {path} does not exist.")
    ckpt = _torch_load(path, map_location, "checkpoint")
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise VolsegError(f"{path} is not a volseg checkpoint (no '{FORMAT}' format marker).")
    return _with_config(ckpt)


def _with_config(ckpt: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint with its ``config_yaml`` parsed into ``config`` (a plain dict)."""
    ckpt["config"] = yaml.safe_load(ckpt.get("config_yaml") or "{}")
    return ckpt


def validated_state(ckpt: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The weights a checkpoint's scores belong to: the EMA copy when training validated it
    (``optimization.ema.use_for_validation``), else the trained weights.

    ``best.pt`` is chosen by the validation score, so prediction, testing and fine-tuning must
    use the network that was scored; the last step's raw weights can be much worse early on.
    """
    ema = ckpt.get("ema_state")  # saved only when the EMA was enabled
    opt = (ckpt.get("config") or {}).get("optimization") or {}
    if ema and (opt.get("ema") or {}).get("use_for_validation", True):
        inner = {k[len("module.") :]: v for k, v in ema.items() if k.startswith("module.")}
        if inner:
            return inner
    return ckpt["model_state"]


def build_model_from_checkpoint(
    path: str | os.PathLike[str], map_location: Any = "cpu"
) -> nn.Module:
    """Rebuild the network from a checkpoint's model section and load the weights that were
    validated (:func:`validated_state`), in eval mode."""
    from volseg.models import build

    ckpt = load_checkpoint(path, map_location)
    model = build(ckpt["model_cfg"])
    state = validated_state(ckpt)
    _check_shapes(model.state_dict(), state, str(path))
    model.load_state_dict(state, strict=True)
    return model.eval()


@dataclass
class WeightsReport:
    """What :func:`load_external_weights` did.

    Attributes:
        loaded: model keys that received weights.
        missing: model keys the file had no weights for (kept at their initial values).
        unexpected: file keys (after prefix stripping) the model does not have.
        skipped: file keys without the requested prefix.
        prefix: the prefix that was stripped, if any.
    """

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    prefix: str | None = None

    def __str__(self) -> str:
        def few(keys: list[str]) -> str:
            more = f", ... (+{len(keys) - SHOWN})" if len(keys) > SHOWN else ""
            return ", ".join(keys[:SHOWN]) + more

        parts = [f"loaded {len(self.loaded)} tensors"]
        if self.prefix:
            parts.append(f"stripped prefix {self.prefix!r}")
        for name in ("missing", "unexpected", "skipped"):
            keys = getattr(self, name)
            if keys:
                parts.append(f"{len(keys)} {name} ({few(keys)})")
        return "; ".join(parts)


def _state_dict_of(obj: Any, path: str) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("model_state", "state_dict", "model", "network"):
            inner = obj.get(key)
            if (
                isinstance(inner, dict)
                and inner
                and all(torch.is_tensor(v) for v in inner.values())
            ):
                return inner
        if obj and all(torch.is_tensor(v) for v in obj.values()):
            return obj
    raise VolsegError(
        f"{path} holds no state dict (expected a mapping of tensors, or one under 'state_dict', "
        "'model_state', 'model' or 'network')."
    )


def _check_shapes(own: Mapping[str, torch.Tensor], theirs: Mapping[str, Any], path: str) -> None:
    bad = [
        f"{k} {tuple(theirs[k].shape)} vs model {tuple(v.shape)}"
        for k, v in own.items()
        if k in theirs and tuple(theirs[k].shape) != tuple(v.shape)
    ]
    if bad:
        more = f" and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
        raise VolsegError(
            f"weights in {path} do not fit the model: {'; '.join(bad[:SHOWN])}{more} "
            "(file shape vs model shape)."
        )


def load_external_weights(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    prefix: str | None = None,
    strict: bool = False,
) -> WeightsReport:
    """Load weights from another checkpoint or a bare state dict into ``model``.

    Args:
        model: the network to fill.
        path: a ``.pt``/``.pth``/``.ckpt`` file (read with ``weights_only=True``).
        prefix: key prefix to strip (e.g. ``"model."``); only keys with it are used. ``None``
            strips a wrapper prefix (``module.``, ``_orig_mod.``) carried by every key.
        strict: refuse missing or unexpected keys instead of reporting them.

    Returns:
        A :class:`WeightsReport`. Shape mismatches always raise :class:`VolsegError`.
    """
    path = Path(path)
    if not path.is_file():
        from volseg.train.run_dir import missing_latest_hint

        raise VolsegError(
            f"external weights file {path} does not exist.{missing_latest_hint(path)}"
        )
    raw = _torch_load(path, "cpu", "weights")
    if isinstance(raw, dict) and raw.get("format") == FORMAT:  # a volseg checkpoint: the
        state = validated_state(_with_config(raw))  # weights its scores belong to
    else:
        state = _state_dict_of(raw, str(path))
    report = WeightsReport(prefix=prefix)
    if prefix is None:
        for wrapper in WRAPPER_PREFIXES:
            if all(k.startswith(wrapper) for k in state):
                report.prefix = prefix = wrapper
                break
    if prefix:
        report.skipped = sorted(k for k in state if not k.startswith(prefix))
        state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    own = model.state_dict()
    _check_shapes(own, state, str(path))
    report.loaded = [k for k in own if k in state]
    report.missing = [k for k in own if k not in state]
    report.unexpected = sorted(k for k in state if k not in own)
    if not report.loaded:
        raise VolsegError(
            f"no weights in {path} match the model (first file keys: "
            f"{', '.join(list(state)[:SHOWN]) or 'none'}); check external_weights_prefix."
        )
    if strict and (report.missing or report.unexpected):
        raise VolsegError(f"weights in {path} do not match the model exactly: {report}.")
    model.load_state_dict({k: state[k] for k in report.loaded}, strict=False)
    return report
