"""Loss balancing: the uncertainty weights are optimised; GradNorm updates and renormalises."""

import numpy as np
import pytest
import torch

from volseg import losses
from volseg.losses import GradNormBalancing, UncertaintyBalancing
from volseg.models import build

CFG = {
    "architecture": "monai_unet",
    "filters": [4, 8],
    "num_res_units": 0,
    "out_channels": 2,
    "loss_functions": ["BCEWithLogitsLoss", "MSELoss"],
    "multi_task_config": [[0, 1, "binary", [0]], [1, 2, "instance_edt", [1]]],
}


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 1, 4, 8, 8, generator=g)
    fg = (x > 0).float()
    edt = torch.where(fg > 0, torch.rand(fg.shape, generator=g), -torch.ones_like(fg))
    return x, torch.cat([fg, edt], dim=1)


def test_uncertainty_formula():
    bal = UncertaintyBalancing(3)
    with torch.no_grad():
        bal.log_vars.copy_(torch.tensor([0.0, 1.0, -0.5]))
    terms = torch.tensor([2.0, 3.0, 0.5])
    expected = sum(np.exp(-s) * t + s for s, t in [(0.0, 2.0), (1.0, 3.0), (-0.5, 0.5)])
    assert float(bal(terms)) == pytest.approx(expected)


def test_uncertainty_log_variances_are_optimised_with_the_model():
    model = build(CFG)
    loss = losses.build({**CFG, "loss_balancing": "uncertainty"})
    assert [n for n, _ in loss.named_parameters()] == ["balancing.log_vars"]
    opt = torch.optim.Adam(list(model.parameters()) + list(loss.parameters()), lr=0.05)
    before = loss.balancing.log_vars.detach().clone()
    for step in range(5):
        x, y = batch(step)
        total, parts = loss(model(x), y)
        opt.zero_grad()
        total.backward()
        opt.step()
    after = loss.balancing.log_vars.detach()
    assert (after != before).all()
    assert set(parts) >= {"log_var/binary/BCEWithLogitsLoss", "log_var/instance_edt/MSELoss"}


def test_gradnorm_step_matches_hand_computation():
    w_param = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    u, v = torch.tensor([1.0, 2.0, 0.0]), torch.tensor([0.0, 1.0, 1.0])
    bal = GradNormBalancing(2, alpha=1.5, lr=0.1)
    terms = torch.stack([(w_param @ u) ** 2, 3 * (w_param @ v) ** 2])
    bal(terms)
    bal.update([w_param])
    wp = w_param.detach().numpy()
    g = np.array([2 * abs(wp @ u.numpy()) * np.linalg.norm(u), 6 * abs(wp @ v.numpy()) * 2**0.5])
    w = np.ones(2)
    target = (w * g).mean()  # first step: all training rates are 1
    new = w - 0.1 * np.sign(w * g - target) * g
    new = np.clip(new, 1e-3, None)
    np.testing.assert_allclose(bal.weights.numpy(), new * 2 / new.sum(), rtol=1e-6)


def test_gradnorm_weights_change_and_stay_normalised():
    model = build(CFG)
    loss = losses.build({**CFG, "loss_balancing": "gradnorm"})
    assert list(loss.parameters()) == []  # its weights are not touched by the optimiser
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    history = []
    for step in range(4):
        x, y = batch(step)
        total, parts = loss(model(x), y)
        loss.update(model.parameters())
        opt.zero_grad()
        total.backward()  # still possible after the GradNorm step
        opt.step()
        history.append(loss.balancing.weights.clone())
        assert float(loss.balancing.weights.sum()) == pytest.approx(2.0)
        assert (loss.balancing.weights > 0).all()
    assert not torch.allclose(history[0], torch.ones(2))
    assert not torch.allclose(history[-1], history[0])


def test_none_is_weighted_sum_of_parts():
    loss = losses.build({**CFG, "loss_weights": [0.5, 3.0]})
    x, y = batch(0)
    total, parts = loss(build(CFG)(x), y)
    expected = 0.5 * parts["binary/BCEWithLogitsLoss"] + 3.0 * parts["instance_edt/MSELoss"]
    torch.testing.assert_close(total.detach(), expected)
    assert loss.update([]) == {}


def test_gradnorm_needs_a_forward_first():
    with pytest.raises(RuntimeError, match="forward pass first"):
        GradNormBalancing(2).update([])
