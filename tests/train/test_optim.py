"""Optimizers over network + loss, and the learning-rate schedules, against closed forms."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from volseg.train.optim import Schedule, build_optimizer, lr_factor, param_groups


def sched(**kw):
    base = dict(
        name="warmup_cosine",
        warmup_epochs=2,
        warmup_start_lr=0.1,
        min_lr=1e-4,
        step_size=3,
        gamma=0.5,
        patience=1,
        factor=0.5,
    )
    base.update(kw)
    return SimpleNamespace(**base)


def opt(**kw):
    base = dict(name="AdamW", lr=0.01, weight_decay=0.1, betas=[0.9, 0.99], eps=1e-8, momentum=0.8)
    base.update(kw)
    return SimpleNamespace(**base)


class Log(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.log_vars = nn.Parameter(torch.zeros(3))


def test_groups_cover_loss_parameters_without_decay() -> None:
    net, loss = nn.Sequential(nn.Conv3d(1, 2, 3), nn.BatchNorm3d(2)), Log()
    groups = param_groups(net, loss, 0.1)
    assert [g["weight_decay"] for g in groups] == [0.1, 0.0]
    assert [tuple(p.shape) for p in groups[0]["params"]] == [(2, 1, 3, 3, 3)]
    ids = {id(p) for p in groups[1]["params"]}
    assert id(loss.log_vars) in ids and id(net[0].bias) in ids and id(net[1].weight) in ids
    total = sum(len(g["params"]) for g in groups)
    assert total == len(list(net.parameters())) + 1


@pytest.mark.parametrize(
    "name, cls",
    [("AdamW", torch.optim.AdamW), ("Adam", torch.optim.Adam), ("SGD", torch.optim.SGD)],
)
def test_build_optimizer(name: str, cls: type) -> None:
    net = nn.Linear(2, 2)
    o = build_optimizer(param_groups(net, Log(), 0.1), opt(name=name))
    assert type(o) is cls
    assert o.param_groups[0]["lr"] == 0.01
    if name == "SGD":
        assert o.param_groups[0]["momentum"] == 0.8
    else:
        assert o.param_groups[0]["betas"] == (0.9, 0.99)


def test_loss_weights_are_optimised() -> None:
    loss = Log()
    o = build_optimizer(param_groups(nn.Linear(1, 1), loss, 0.0), opt(name="SGD", momentum=0.0))
    (loss.log_vars.sum() * 2).backward()
    o.step()
    assert torch.allclose(loss.log_vars.detach(), torch.full((3,), -0.02))


def test_warmup_cosine_closed_form() -> None:
    f = lr_factor(sched(), lr=0.01, steps_per_epoch=5, total_steps=30)
    floor = 1e-4 / 0.01
    assert f(0) == pytest.approx(0.1)
    assert f(5) == pytest.approx(0.1 + 0.9 * 5 / 10)
    assert f(10) == pytest.approx(1.0)
    assert f(20) == pytest.approx(floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert f(30) == pytest.approx(floor)
    assert f(40) == pytest.approx(floor)  # past the end: stays at min_lr


def test_cosine_and_step_and_none() -> None:
    f = lr_factor(sched(name="cosine"), lr=0.01, steps_per_epoch=5, total_steps=20)
    assert f(0) == pytest.approx(1.0) and f(20) == pytest.approx(0.01)
    g = lr_factor(sched(name="step"), lr=0.01, steps_per_epoch=5, total_steps=100)
    assert [g(s) for s in (0, 14, 15, 29, 30)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert lr_factor(sched(name="none"), lr=0.01, steps_per_epoch=5, total_steps=20) is None


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_schedule_steps_lr_and_restores() -> None:
    net = nn.Linear(1, 1)
    o = build_optimizer(param_groups(net, Log(), 0.0), opt())
    s = Schedule(o, sched(), lr=0.01, steps_per_epoch=5, total_steps=30, mode="min")
    assert s.lr == pytest.approx(0.001)
    for _ in range(7):
        s.after_step()
    assert s.lr == pytest.approx(0.01 * (0.1 + 0.9 * 7 / 10))
    state = s.state_dict()
    o2 = build_optimizer(param_groups(nn.Linear(1, 1), Log(), 0.0), opt())
    s2 = Schedule(o2, sched(), lr=0.01, steps_per_epoch=5, total_steps=30, mode="min")
    s2.load_state_dict(state)
    s2.after_step()
    s.after_step()
    assert s2.lr == pytest.approx(s.lr)


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_reduce_on_plateau_uses_validation_values() -> None:
    o = build_optimizer(param_groups(nn.Linear(1, 1), Log(), 0.0), opt())
    s = Schedule(
        o, sched(name="reduce_on_plateau"), lr=0.01, steps_per_epoch=5, total_steps=30, mode="max"
    )
    s.after_step()
    assert s.lr == 0.01
    for v in (0.5, 0.4, 0.4):
        s.after_validation(v)
    assert s.lr == pytest.approx(0.005)
    s.after_validation(None)  # not computed this epoch: ignored
    assert s.lr == pytest.approx(0.005)
