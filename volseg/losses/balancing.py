"""Combining the loss terms: none, uncertainty (Kendall et al. 2018), GradNorm (Chen et al. 2018).

Each strategy receives the vector of weighted terms ``T_i = loss_weight_i * L_i`` (one per
task/loss pair, deep-supervision scales already summed) and returns the total:

- ``none``: ``sum_i T_i``.
- ``uncertainty``: ``sum_i exp(-s_i) T_i + s_i`` with learnable log-variances ``s_i`` (init 0),
  the homoscedastic-uncertainty weighting of Kendall, Gal & Cipolla (CVPR 2018) with
  ``s = log sigma^2`` and the constant 1/2 factors dropped. ``s_i`` are ``nn.Parameter`` of the
  loss module: optimise ``list(model.parameters()) + list(loss.parameters())``.
- ``gradnorm``: ``sum_i w_i T_i`` with weights ``w_i`` (a buffer, init 1, no gradient from the
  total) updated by :meth:`GradNormBalancing.update` after each forward pass (Chen et al., ICML
  2018): with ``G_i = w_i ||grad_W T_i||`` over the shared parameters ``W`` and relative
  inverse training rates ``r_i = (T_i / T_i(0)) / mean_j(T_j / T_j(0))``, one gradient step
  on ``sum_i |G_i - mean(G) r_i^alpha|`` (target held constant), then ``w`` is clipped to be
  positive and renormalised to ``sum_i w_i = n``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

MIN_WEIGHT = 1e-3


class NoBalancing(nn.Module):
    """Plain sum of the weighted terms."""

    def forward(self, terms: torch.Tensor) -> torch.Tensor:
        return terms.sum()

    def update(self, shared_params: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Nothing to update."""
        return {}

    def state(self) -> dict[str, torch.Tensor]:
        """Per-term factors for logging (none here)."""
        return {}


class UncertaintyBalancing(NoBalancing):
    """``sum_i exp(-s_i) T_i + s_i`` with learnable ``s_i`` (``log_vars``)."""

    def __init__(self, n_terms: int) -> None:
        super().__init__()
        self.log_vars = nn.Parameter(torch.zeros(n_terms))

    def forward(self, terms: torch.Tensor) -> torch.Tensor:
        s = self.log_vars.to(terms.dtype)
        return (torch.exp(-s) * terms + s).sum()

    def state(self) -> dict[str, torch.Tensor]:
        """The current log-variances."""
        return {"log_var": self.log_vars.detach()}


class GradNormBalancing(NoBalancing):
    """GradNorm weights ``w_i`` updated by :meth:`update`.

    Args:
        n_terms: number of weighted terms.
        alpha: restoring-force strength (the paper's alpha; 1.5 in its experiments).
        lr: step size of the weight update.
    """

    def __init__(self, n_terms: int, *, alpha: float = 1.5, lr: float = 0.025) -> None:
        super().__init__()
        self.alpha, self.lr = float(alpha), float(lr)
        self.register_buffer("weights", torch.ones(n_terms))
        self.register_buffer("initial", torch.zeros(n_terms))
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))
        self._terms: torch.Tensor | None = None

    def forward(self, terms: torch.Tensor) -> torch.Tensor:
        self._terms = terms
        # A copy: ``update`` changes the buffer in place before ``total.backward()`` runs.
        return (self.weights.detach().clone().to(terms.dtype) * terms).sum()

    def update(self, shared_params: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
        """One GradNorm step from the last forward pass; call before ``total.backward()``.

        Args:
            shared_params: parameters shared by all tasks (typically the last shared layer or
                the whole network body).

        Returns:
            ``{"gradnorm_loss": ...}`` for logging.
        """
        if self._terms is None:
            raise RuntimeError("GradNormBalancing.update needs a forward pass first.")
        terms, self._terms = self._terms, None
        params = [p for p in shared_params if p.requires_grad]
        norms = []
        for i in range(terms.numel()):
            grads = torch.autograd.grad(terms[i], params, retain_graph=True, allow_unused=True)
            sq = sum((g.detach().double().square().sum() for g in grads if g is not None), 0.0)
            norms.append(torch.as_tensor(sq, dtype=torch.float64, device=self.weights.device))
        g = torch.stack(norms).sqrt().to(self.weights)
        values = terms.detach().to(self.weights)
        if not bool(self.initialised):
            self.initial.copy_(values)
            self.initialised.fill_(True)
        ratio = values / self.initial.clamp(min=1e-12)
        rate = ratio / ratio.mean().clamp(min=1e-12)
        w = self.weights.clone().requires_grad_(True)
        grad_norms = w * g
        target = (grad_norms.mean() * rate.pow(self.alpha)).detach()
        gn_loss = (grad_norms - target).abs().sum()
        (grad_w,) = torch.autograd.grad(gn_loss, w)
        new = (self.weights - self.lr * grad_w).clamp(min=MIN_WEIGHT)
        self.weights.copy_(new * new.numel() / new.sum())
        return {"gradnorm_loss": gn_loss.detach()}

    def state(self) -> dict[str, torch.Tensor]:
        """The current task weights."""
        return {"weight": self.weights.detach().clone()}


STRATEGIES = ("none", "uncertainty", "gradnorm")


def make_balancing(kind: str, n_terms: int, **kwargs: float) -> NoBalancing:
    """The balancing module for ``kind`` (validated by the caller)."""
    if kind == "uncertainty":
        return UncertaintyBalancing(n_terms)
    if kind == "gradnorm":
        return GradNormBalancing(n_terms, **kwargs)
    return NoBalancing()
