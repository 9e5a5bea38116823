"""``build(model_cfg, targets=...)``: the multi-task loss from the model section.

Keys read: ``loss_functions``, ``loss_weights``, ``loss_kwargs``, ``multi_task_config``,
``loss_balancing``, ``deep_supervision``, ``deep_supervision_weights``, ``out_channels`` (and
the architecture keys ``num_outputs`` needs); ``gradnorm_alpha`` / ``gradnorm_lr`` when set.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from volseg.channels import MULTI_CHANNEL, target_layout
from volseg.errors import VolsegError
from volseg.losses.balancing import STRATEGIES, make_balancing
from volseg.losses.multitask import MultiTaskLoss
from volseg.losses.pixel import BCEWithLogitsLoss, FocalLoss, WeightedBCEWithLogitsLoss
from volseg.losses.region import DiceLoss, TverskyLoss
from volseg.losses.regression import MSELoss, SmoothL1Loss
from volseg.models import _config as C
from volseg.models.heads import DEFAULT_LOSSES, DISTANCE_TARGETS, Task, check_target, parse_tasks
from volseg.models.registry import num_outputs

LOSSES: dict[str, type[nn.Module]] = {
    "DiceLoss": DiceLoss,
    "WeightedBCEWithLogitsLoss": WeightedBCEWithLogitsLoss,
    "BCEWithLogitsLoss": BCEWithLogitsLoss,
    "FocalLoss": FocalLoss,
    "TverskyLoss": TverskyLoss,
    "SmoothL1Loss": SmoothL1Loss,
    "MSELoss": MSELoss,
}


def _hint(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _make_loss(i: int, name: Any, kwargs: Any) -> nn.Module:
    if name not in LOSSES:
        raise VolsegError(
            f"model.loss_functions[{i}] {name!r} is not a known loss{_hint(str(name), LOSSES)}; "
            f"valid losses: {', '.join(LOSSES)}."
        )
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(kwargs, Mapping):
        raise VolsegError(f"model.loss_kwargs[{i}] for {name} must be a mapping, got {kwargs!r}.")
    accepted = [p for p in inspect.signature(LOSSES[name]).parameters if p != "self"]
    for key in kwargs:
        if key not in accepted:
            raise VolsegError(
                f"model.loss_kwargs[{i}]: {name} does not accept {key!r}{_hint(key, accepted)}; "
                f"accepted: {', '.join(accepted)}."
            )
    try:
        return LOSSES[name](**kwargs)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, VolsegError):
            raise
        raise VolsegError(f"model.loss_kwargs[{i}] for {name}: {exc}.") from None


def _check_pair(task: Task, name: str, loss: nn.Module) -> None:
    if task.kind not in loss.kinds:
        raise VolsegError(
            f"{name} cannot train the {task.kind} target {task.name!r} (values outside [0, 1]); "
            "use SmoothL1Loss or MSELoss for distance targets."
        )
    tanh = getattr(loss, "flags", {}).get("tanh")
    if tanh is not None and bool(tanh) != (task.activation == "tanh"):
        raise VolsegError(
            f"{name} has tanh={tanh} but target {task.name!r} uses a {task.activation} head "
            "(the activation applied at inference); remove the option or set "
            f"tanh={'true' if task.activation == 'tanh' else 'false'}."
        )


def _target_layout(targets: Any) -> list[tuple[str, int, int]] | None:
    """``(name, first, end)`` target channels per target entry (names or ``{name, kwargs}``)."""
    if targets is None:
        return None
    pairs = []
    for e in C.plain(targets):
        name = check_target(e.get("name") if isinstance(e, Mapping) else e)
        pairs.append((name, (e.get("kwargs") or {}) if isinstance(e, Mapping) else {}))
    return target_layout(pairs)


def _channel_words(name: str, n: int) -> str:
    per = " (one per offset)" if name in MULTI_CHANNEL else ""
    return f"{n} channel{'' if n == 1 else 's'}{per}"


def _target_slices(
    tasks: list[Task], layout: list[tuple[str, int, int]] | None, out: int, single: bool
) -> tuple[list[tuple[int, int]], int]:
    """Target channels per task (by target name, or positional without a target list)."""
    if layout is None:
        return [(t.start, t.end) for t in tasks], out
    names = [name for name, _, _ in layout]
    n_target = layout[-1][2] if layout else 0
    if single:
        if n_target != out or any(n in DISTANCE_TARGETS for n in names):
            raise VolsegError(
                f"without model.multi_task_config the {out} output channel(s) are compared with "
                f"the targets {names} channel by channel as probabilities; set multi_task_config "
                "to map channels to targets."
            )
        return [(0, out)], out
    slices = []
    for t in tasks:
        hits = [(first, end) for n, first, end in layout if n == t.name]
        if len(hits) != 1:
            what = "is not among" if not hits else "appears more than once in"
            raise VolsegError(f"task target {t.name!r} {what} the targets {names}.")
        first, end = hits[0]
        if t.end - t.start != end - first:
            raise VolsegError(
                f"model.multi_task_config maps {t.end - t.start} output channels "
                f"({t.start}..{t.end - 1}) to target {t.name!r}, which has "
                f"{_channel_words(t.name, end - first)}."
            )
        slices.append((first, end))
    return slices, n_target


def _scale_weights(cfg: Any) -> list[float]:
    n = num_outputs(cfg)
    if n == 1:
        return [1.0]
    weights = C.get(cfg, "deep_supervision_weights")
    if weights is None:
        return [0.5**i for i in range(n)]
    is_list = isinstance(weights, Sequence) and not isinstance(weights, str)
    if not is_list or len(weights) != n:
        raise VolsegError(
            f"model.deep_supervision_weights {weights!r} has {len(weights) if is_list else 0} "
            f"entries but {C.get(cfg, 'architecture')} with deep supervision returns {n} "
            "outputs (one per resolution level); give one weight per output, finest first."
        )
    return [float(w) for w in weights]


def build(model_cfg: Any, *, targets: Any = None) -> MultiTaskLoss:
    """Build the multi-task loss.

    Args:
        model_cfg: the ``model`` config section (DictConfig, dict or namespace).
        targets: targets in channel order (``data.label_transform.targets``, names or
            ``{name, kwargs}`` entries; an affinity target's kwargs give its channel count, one
            per offset); tasks then find their target by name. Without it the
            target channels of a task are its output channels (PyTorch Connectomics style).

    Returns:
        A :class:`MultiTaskLoss`; ``loss(outputs, targets, mask)`` returns ``(total, parts)``.
    """
    names = C.get(model_cfg, "loss_functions", DEFAULT_LOSSES)
    if not isinstance(names, Sequence) or isinstance(names, str) or not names:
        raise VolsegError(f"model.loss_functions must be a non-empty list, got {names!r}.")
    n = len(names)
    weights = C.get(model_cfg, "loss_weights", [1.0] * n)
    if not isinstance(weights, Sequence) or len(weights) != n:
        raise VolsegError(
            f"model.loss_weights must have {n} entries (one per loss), got {weights!r}."
        )
    kwargs = C.get(model_cfg, "loss_kwargs", [{}] * n) or [{}] * n
    if not isinstance(kwargs, Sequence) or len(kwargs) != n:
        raise VolsegError(
            f"model.loss_kwargs must have {n} entries (one per loss), got {kwargs!r}."
        )
    losses = [
        _make_loss(i, name, kw) for i, (name, kw) in enumerate(zip(names, kwargs, strict=True))
    ]
    tasks = parse_tasks(model_cfg)
    for task in tasks:
        for li in task.losses:
            _check_pair(task, names[li], losses[li])
    single = not C.get(model_cfg, "multi_task_config")
    out = C.get(model_cfg, "out_channels")
    slices, n_target = _target_slices(tasks, _target_layout(targets), out, single)
    kind = C.choice(C.get(model_cfg, "loss_balancing", "none"), "loss_balancing", STRATEGIES)
    extra = {}
    if kind == "gradnorm":
        extra = {"alpha": float(C.get(model_cfg, "gradnorm_alpha", 1.5))}
        extra["lr"] = float(C.get(model_cfg, "gradnorm_lr", 0.025))
    n_terms = sum(len(t.losses) for t in tasks)
    return MultiTaskLoss(
        tasks=tasks, target_slices=slices, n_target_channels=n_target, losses=losses,
        loss_names=list(names), loss_weights=[float(w) for w in weights],
        scale_weights=_scale_weights(model_cfg), balancing=make_balancing(kind, n_terms, **extra),
    )  # fmt: skip
