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


def cosine_lr(progress: float, *, lr=0.01, min_lr=1e-4, start=0.1, warmup=10 / 30) -> float:
    """Independent closed form: linear warm-up over the first ``warmup`` share of the run from
    ``start * lr`` to ``lr``, then half a cosine period down to ``min_lr``, flat after."""
    if progress < warmup:
        return lr * (start + (1 - start) * progress / warmup)
    t = min(1.0, (progress - warmup) / (1 - warmup))
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * t)) / 2


def timed_schedule(**kw) -> Schedule:
    o = build_optimizer(param_groups(nn.Linear(1, 1), Log(), 0.0), opt())
    return Schedule(
        o, sched(**kw), lr=0.01, steps_per_epoch=5, total_steps=30, mode="min", timed=True
    )


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_timed_schedule_follows_the_clock_when_steps_lag() -> None:
    s = timed_schedule()
    assert s.lr == pytest.approx(cosine_lr(0.0))
    for step, fraction in enumerate([0.05, 0.2, 0.34, 0.5, 0.7, 0.9, 0.99, 1.0], start=1):
        s.after_step(fraction)
        assert s.lr == pytest.approx(cosine_lr(max(step / 30, fraction)), rel=1e-9)
    assert s.lr == pytest.approx(1e-4, rel=1e-12)  # the whole schedule, after 8 of 30 steps
    s.after_step(1.0)
    assert s.lr == pytest.approx(1e-4, rel=1e-12)  # and it stays at min_lr


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_timed_schedule_follows_the_steps_when_they_lead() -> None:
    timed = timed_schedule()
    plain = Schedule(
        build_optimizer(param_groups(nn.Linear(1, 1), Log(), 0.0), opt()), sched(),
        lr=0.01, steps_per_epoch=5, total_steps=30, mode="min",
    )  # fmt: skip
    for step in range(1, 31):
        timed.after_step(step / 40)  # the clock lags the steps: the step schedule as it was
        plain.after_step()
        assert timed.lr == plain.lr == pytest.approx(cosine_lr(step / 30), rel=1e-9)


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_time_share_never_goes_back_and_is_restored() -> None:
    s = timed_schedule(name="cosine")
    s.after_step(0.8)
    s.after_step(0.3)  # an earlier share cannot move the schedule back
    assert s.time_fraction == 0.8
    assert s.lr == pytest.approx(cosine_lr(0.8, warmup=0.0), rel=1e-9)
    again = timed_schedule(name="cosine")
    again.load_state_dict(s.state_dict())
    assert again.time_fraction == 0.8
    s.after_step(None)
    again.after_step(None)
    assert again.lr == s.lr == pytest.approx(cosine_lr(0.8, warmup=0.0), rel=1e-9)


@pytest.mark.filterwarnings("ignore:Detected call of")
def test_timed_step_schedule_and_untimed_schedules_ignore_the_clock() -> None:
    s = timed_schedule(name="step")  # lr * 0.5 every 3 epochs of 5 steps
    s.after_step(0.5)  # effective step 15 = epoch 3
    assert s.lr == pytest.approx(0.005)
    s.after_step(31 / 30)  # past the end: epoch 6
    assert s.lr == pytest.approx(0.0025)
    plain = Schedule(
        build_optimizer(param_groups(nn.Linear(1, 1), Log(), 0.0), opt()), sched(),
        lr=0.01, steps_per_epoch=5, total_steps=30, mode="min",
    )  # fmt: skip
    plain.after_step(0.9)  # without a budget the share changes nothing
    assert plain.lr == pytest.approx(cosine_lr(1 / 30), rel=1e-9)
