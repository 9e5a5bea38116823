"""Output heads per task and THE place where output activations are applied.

``multi_task_config`` (PyTorch Connectomics v2 format) splits the output channels into tasks:
``[start, end, target, [loss indices]]`` compares output channels ``start:end`` with the target
named ``target`` using the listed losses. The target decides the head activation:

- probability targets (``binary``, ``instance_boundary``, ``affinity``): **sigmoid**; in their
  targets -1 marks ignored voxels (per channel: an affinity channel ignores the pairs that
  leave the patch);
- distance targets (``instance_edt``, ``semantic_edt``): **tanh**; -1 is a real value there
  (background), so their ignore region comes only from the explicit mask.

Without ``multi_task_config`` all output channels form one probability task (named
``binary``) using every loss.
Training (losses), validation and inference all call :func:`activate` /
:func:`apply_activations`; losses that take logits (BCE, focal) get the raw logits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from volseg.errors import VolsegError
from volseg.models import _config as C

PROBABILITY_TARGETS = ("binary", "instance_boundary", "affinity")
DISTANCE_TARGETS = ("instance_edt", "semantic_edt")
DEFAULT_LOSSES = ["BCEWithLogitsLoss", "DiceLoss"]


@dataclass(frozen=True)
class Task:
    """One group of output channels compared with one target.

    Attributes:
        name: the target name (as in ``data.label_transform.targets``).
        start: first output channel.
        end: one past the last output channel.
        losses: indices into ``model.loss_functions``.
    """

    name: str
    start: int
    end: int
    losses: tuple[int, ...]

    @property
    def kind(self) -> str:
        """``probability`` or ``distance``."""
        return "distance" if self.name in DISTANCE_TARGETS else "probability"

    @property
    def activation(self) -> str:
        """``sigmoid`` for probability targets, ``tanh`` for distance targets."""
        return "tanh" if self.kind == "distance" else "sigmoid"


def check_target(name: Any) -> str:
    """``name`` if it is a known target, else VolsegError listing them."""
    if name not in PROBABILITY_TARGETS + DISTANCE_TARGETS:
        known = ", ".join(PROBABILITY_TARGETS + DISTANCE_TARGETS)
        raise VolsegError(f"unknown target {name!r}; known targets: {known}.")
    return name


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise VolsegError(f"model.multi_task_config {what} must be an integer, got {value!r}.")
    return value


def _parse_entry(i: int, entry: Any, n_losses: int) -> Task:
    if not isinstance(entry, Sequence) or isinstance(entry, str) or len(entry) != 4:
        raise VolsegError(
            f"model.multi_task_config entry {i} must be [start, end, target, [loss indices]], "
            f"got {entry!r}."
        )
    start, end = _int(entry[0], f"entry {i} start"), _int(entry[1], f"entry {i} end")
    name, losses = entry[2], entry[3]
    if not isinstance(name, str):
        raise VolsegError(f"model.multi_task_config entry {i} target must be a name, got {name!r}.")
    if isinstance(losses, int):
        losses = [losses]
    if not isinstance(losses, Sequence) or isinstance(losses, str) or not losses:
        raise VolsegError(
            f"model.multi_task_config entry {i} ({name}) must list loss indices, got {losses!r}."
        )
    for j in losses:
        if _int(j, f"entry {i} loss index") not in range(n_losses):
            raise VolsegError(
                f"model.multi_task_config entry {i} ({name}) uses loss index {j}, but "
                f"model.loss_functions has {n_losses} entries (indices 0..{n_losses - 1})."
            )
    if name not in PROBABILITY_TARGETS + DISTANCE_TARGETS:
        raise VolsegError(
            f"model.multi_task_config entry {i} names unknown target {name!r}; known targets: "
            f"{', '.join(PROBABILITY_TARGETS + DISTANCE_TARGETS)}."
        )
    return Task(name, start, end, tuple(losses))


def parse_tasks(model_cfg: Any) -> list[Task]:
    """Tasks from ``multi_task_config``, checked to tile the output channels exactly once."""
    out = C.positive_int(C.get(model_cfg, "out_channels"), "out_channels")
    n_losses = len(C.get(model_cfg, "loss_functions", DEFAULT_LOSSES))
    config = C.get(model_cfg, "multi_task_config")
    if config is None or (isinstance(config, Sequence) and len(config) == 0):
        return [Task("binary", 0, out, tuple(range(n_losses)))]
    if not isinstance(config, Sequence) or isinstance(config, str):
        raise VolsegError(f"model.multi_task_config must be a list of entries, got {config!r}.")
    tasks = [_parse_entry(i, e, n_losses) for i, e in enumerate(config)]
    position = 0
    for task in sorted(tasks, key=lambda t: t.start):
        if task.end <= task.start:
            raise VolsegError(
                f"model.multi_task_config entry {task.name!r} has end {task.end} <= start "
                f"{task.start}; channels are [start, end)."
            )
        if task.start != position:
            what = "overlaps the previous entry" if task.start < position else "leaves a gap"
            raise VolsegError(
                f"model.multi_task_config entry {task.name!r} starts at channel {task.start} "
                f"and {what}; entries must cover channels 0..{out - 1} exactly once."
            )
        position = task.end
    if position != out:
        raise VolsegError(
            f"model.multi_task_config covers channels 0..{position - 1} but model.out_channels "
            f"is {out}; the entries must cover every output channel exactly once."
        )
    return tasks


def foreground_channel(model_cfg: Any) -> int | None:
    """Output channel of the ``binary`` task, or None."""
    return next((t.start for t in parse_tasks(model_cfg) if t.name == "binary"), None)


def require_foreground(model_cfg: Any, *, command: str) -> None:
    """Refuse a model whose channel 0 is not a ``binary`` foreground probability (self-training
    and active learning read their confidence from it)."""
    if foreground_channel(model_cfg) != 0:
        first = min(parse_tasks(model_cfg), key=lambda t: t.start)
        raise VolsegError(
            f"{command} reads the foreground probability from output channel 0, but this model "
            f"predicts {first.name!r} there; train a `binary` target first in "
            "model.multi_task_config (an affinity-only model has no foreground channel)."
        )


def activate(x: torch.Tensor, activation: str) -> torch.Tensor:
    """Apply a head activation (``sigmoid``, ``tanh`` or ``identity``)."""
    if activation == "sigmoid":
        return torch.sigmoid(x)
    if activation == "tanh":
        return torch.tanh(x)
    if activation == "identity":
        return x
    raise ValueError(f"unknown activation {activation!r}")


def channel_activations(model_cfg: Any) -> list[str]:
    """The activation of every output channel, in channel order."""
    acts = [""] * C.get(model_cfg, "out_channels")
    for task in parse_tasks(model_cfg):
        acts[task.start : task.end] = [task.activation] * (task.end - task.start)
    return acts


def apply_activations(
    logits: torch.Tensor | Sequence[torch.Tensor], model_cfg: Any, *, channel_dim: int = 1
) -> torch.Tensor | list[torch.Tensor]:
    """Turn logits into maps: sigmoid on probability channels, tanh on distance channels.

    Args:
        logits: ``(b, c, ...)`` logits, or a list of them (deep supervision).
        model_cfg: the model section (``out_channels``, ``multi_task_config``).
        channel_dim: axis of the channels (0 for an unbatched ``(c, z, y, x)`` map).

    Returns:
        Tensor(s) of the same shape(s).
    """
    if isinstance(logits, list | tuple):
        return [apply_activations(t, model_cfg, channel_dim=channel_dim) for t in logits]
    tasks = parse_tasks(model_cfg)
    n = max(t.end for t in tasks)
    if logits.shape[channel_dim] != n:
        raise VolsegError(
            f"logits have {logits.shape[channel_dim]} channels but model.out_channels is {n}."
        )
    parts = [
        activate(logits.narrow(channel_dim, t.start, t.end - t.start), t.activation)
        for t in sorted(tasks, key=lambda t: t.start)
    ]
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=channel_dim)
