"""The multi-task, multi-scale loss: ``total, parts = loss(outputs, targets, mask=None)``.

Terms are (task, loss) pairs from ``multi_task_config``. For each term and each output scale
the prediction is the task's logits (losses that take logits) or their activation via
:func:`volseg.models.heads.activate` (sigmoid / tanh, the same function inference uses); the
target channels are the task's target; validity is the mask, and for probability targets also
``target != -1``. Affinity tasks are scored at full resolution only (their offsets name voxel
pairs of that grid). Deep-supervision outputs are compared with targets resized by
:mod:`volseg.losses.scales` and summed with the scale weights; the balancing strategy combines
the terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from volseg.errors import VolsegError
from volseg.losses.balancing import NoBalancing
from volseg.losses.scales import resize_pair, resize_weight
from volseg.models.heads import Task, activate


class MultiTaskLoss(nn.Module):
    """Weighted sum of per-task losses over deep-supervision scales, with balancing.

    Args:
        tasks: output-channel groups (see :func:`volseg.models.heads.parse_tasks`).
        target_slices: per task, ``(first, end)`` channels of that task's target.
        n_target_channels: channels the target tensor must have.
        losses: loss modules, indexed by ``Task.losses``.
        loss_names: names for logging, one per loss.
        loss_weights: factor per loss.
        scale_weights: one weight per deep-supervision output (``[1.0]`` without it).
        balancing: strategy module (see :mod:`volseg.losses.balancing`).
    """

    def __init__(
        self,
        *,
        tasks: Sequence[Task],
        target_slices: Sequence[tuple[int, int]],
        n_target_channels: int,
        losses: Sequence[nn.Module],
        loss_names: Sequence[str],
        loss_weights: Sequence[float],
        scale_weights: Sequence[float],
        balancing: NoBalancing,
    ) -> None:
        super().__init__()
        self.tasks = list(tasks)
        self.target_slices = [tuple(s) for s in target_slices]
        self.n_target_channels = n_target_channels
        self.out_channels = max(t.end for t in self.tasks)
        self.losses = nn.ModuleList(losses)
        self.loss_weights = [float(w) for w in loss_weights]
        self.scale_weights = [float(w) for w in scale_weights]
        self.terms = [(ti, li) for ti, t in enumerate(self.tasks) for li in t.losses]
        self.term_names = [f"{self.tasks[ti].name}/{loss_names[li]}" for ti, li in self.terms]
        self.balancing = balancing

    def _check(self, outputs: list[torch.Tensor], targets: torch.Tensor) -> None:
        n = len(outputs)
        if n > 1 and n != len(self.scale_weights):
            raise VolsegError(
                f"the model returned {n} output(s) but the loss has {len(self.scale_weights)} "
                "deep-supervision weight(s); model.deep_supervision_weights needs one per output."
            )
        if outputs[0].shape[1] != self.out_channels:
            raise VolsegError(
                f"the model output has {outputs[0].shape[1]} channels but "
                f"model.multi_task_config / out_channels expect {self.out_channels}."
            )
        if targets.ndim != outputs[0].ndim or targets.shape[1] != self.n_target_channels:
            raise VolsegError(
                f"targets have shape {tuple(targets.shape)} but the loss expects "
                f"{self.n_target_channels} target channel(s) (batch, channels, z, y, x)."
            )
        if targets.shape[0] != outputs[0].shape[0] or targets.shape[2:] != outputs[0].shape[2:]:
            raise VolsegError(
                f"targets shape {tuple(targets.shape)} does not match the full-resolution "
                f"output shape {tuple(outputs[0].shape)} in batch and spatial size."
            )

    def _mask(self, mask: torch.Tensor | None, targets: torch.Tensor) -> torch.Tensor:
        shape = (targets.shape[0], 1, *targets.shape[2:])
        if mask is None:
            return torch.ones(shape, dtype=targets.dtype, device=targets.device)
        if mask.ndim == targets.ndim - 1:
            mask = mask.unsqueeze(1)
        if mask.shape != shape:
            raise VolsegError(
                f"mask shape {tuple(mask.shape)} does not fit targets {tuple(targets.shape)}; "
                f"expected {shape} or without the channel axis."
            )
        return (mask > 0).to(targets.dtype)

    def _task_target(
        self, ti: int, targets: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        first, end = self.target_slices[ti]
        target = targets[:, first:end]
        valid = mask.expand_as(target)
        if self.tasks[ti].kind == "probability":
            valid = valid * (target != -1).to(valid.dtype)
        return target, valid

    def forward(
        self,
        outputs: torch.Tensor | Sequence[torch.Tensor],
        targets: torch.Tensor,
        mask: torch.Tensor | None = None,
        *,
        weight_map: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss and detached per-term values for logging.

        Args:
            outputs: logits ``(b, c, z, y, x)`` or the deep-supervision list (finest first).
            targets: ``(b, n_target_channels, z, y, x)`` float targets.
            mask: optional validity ``(b, [1,] z, y, x)``, bool or 0/1; False/0 = ignore.
            weight_map: optional per-voxel weights ``(b, 1, z, y, x)`` for weighted BCE.

        Returns:
            ``(total, parts)``; ``parts`` maps each term name (``"<target>/<Loss>"``) to its
            value summed over the deep-supervision scales with their weights (before
            ``loss_weights`` and balancing), and balancing state (``log_var/...``,
            ``weight/...``) to detached tensors.
        """
        outs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        # losses in float32 at least, also under autocast (half-precision sums overflow)
        outs = [o.float() if o.dtype in (torch.float16, torch.bfloat16) else o for o in outs]
        targets = targets.to(outs[0].dtype)
        self._check(outs, targets)
        # A single output (no deep supervision, or eval mode) counts like the full-res scale.
        scale_weights = self.scale_weights if len(outs) > 1 else self.scale_weights[:1]
        mask = self._mask(mask, targets)
        full = [self._task_target(ti, targets, mask) for ti in range(len(self.tasks))]
        values = [outs[0].new_zeros(()) for _ in self.terms]
        for out, sw in zip(outs, scale_weights, strict=True):
            size = tuple(out.shape[2:])
            scaled = [resize_pair(t, v, size) for t, v in full]
            wm = None if weight_map is None else resize_weight(weight_map, size)
            for k, (ti, li) in enumerate(self.terms):
                task = self.tasks[ti]
                if task.name == "affinity" and out is not outs[0]:
                    continue  # an offset of one voxel is no pair on a coarser grid
                logits = out[:, task.start : task.end]
                loss = self.losses[li]
                pred = logits if loss.takes == "logits" else activate(logits, task.activation)
                target, valid = scaled[ti]
                values[k] = values[k] + sw * loss(pred, target, valid, wm)
        weights = [self.loss_weights[li] for _, li in self.terms]
        terms = torch.stack([w * v for w, v in zip(weights, values, strict=True)])
        total = self.balancing(terms)
        parts = {name: v.detach() for name, v in zip(self.term_names, values, strict=True)}
        for key, vec in self.balancing.state().items():
            parts.update({f"{key}/{n}": vec[i] for i, n in enumerate(self.term_names)})
        return total, parts

    def update(self, shared_params: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Balancing step after the forward pass (GradNorm); a no-op for other strategies."""
        return self.balancing.update(shared_params)
