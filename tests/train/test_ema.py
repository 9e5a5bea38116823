"""EMA of weights and buffers against the formula, and which network validates."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch
from torch import nn

from volseg.train.ema import make_ema, step_decay, update_ema, validation_net


def test_ema_follows_formula_for_parameters_and_buffers() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    cfg = SimpleNamespace(enabled=True, decay=0.9, use_for_validation=True, warmup=False)
    ema = make_ema(net, cfg)
    start = [p.detach().clone() for p in net.parameters()]
    update_ema(ema, net)  # the first update copies
    history = []
    for _ in range(3):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0)
        net.train()
        net(torch.randn(4, 2))  # moves the BN running mean
        history.append([b.clone() for b in net.buffers()])
        update_ema(ema, net)
    want = [0.9 * (0.9 * (0.9 * s + 0.1 * (s + 1)) + 0.1 * (s + 2)) + 0.1 * (s + 3) for s in start]
    for got, w in zip(ema.module.parameters(), want, strict=True):
        assert torch.allclose(got, w, atol=1e-6)
    mean0 = torch.zeros(2)
    expect = 0.9 * (0.9 * (0.9 * mean0 + 0.1 * history[0][0]) + 0.1 * history[1][0])
    expect = expect + 0.1 * history[2][0]
    assert torch.allclose(ema.module[1].running_mean, expect, atol=1e-6)
    assert not any(p.requires_grad for p in ema.parameters())


def test_disabled_and_validation_choice() -> None:
    net = nn.Linear(1, 1)
    assert make_ema(net, SimpleNamespace(enabled=False, decay=0.9)) is None
    update_ema(None, net)  # no-op
    on = SimpleNamespace(enabled=True, decay=0.9, use_for_validation=True)
    ema = make_ema(net, on)
    assert validation_net(net, ema, on) is ema.module
    off = SimpleNamespace(enabled=True, decay=0.9, use_for_validation=False)
    assert validation_net(net, ema, off) is net
    assert validation_net(net, None, on) is net


def test_warmup_decay_rises_to_the_configured_one() -> None:
    net = nn.Linear(1, 1, bias=False)
    cfg = SimpleNamespace(enabled=True, decay=0.99, use_for_validation=True)  # warmup: default
    ema = make_ema(net, cfg)
    with torch.no_grad():
        net.weight.fill_(0.0)
    update_ema(ema, net)  # the first update copies
    value = 0.0
    for n in range(1, 400):
        with torch.no_grad():
            net.weight.fill_(float(n))
        update_ema(ema, net)
        d = min(0.99, (1 + n) / (10 + n))  # n earlier updates (AveragedModel counts the copy)
        value = d * value + (1 - d) * n
        assert abs(float(ema.module.weight) - value) <= 1e-3 * max(1.0, value), n
    assert step_decay(0.99, 0, warmup=True) == 0.1 and step_decay(0.99, 10**6, warmup=True) == 0.99
    assert step_decay(0.99, 0, warmup=False) == 0.99
    # 130 steps at decay 0.999: the average is mostly trained weights, not the first step's
    assert math.prod(step_decay(0.999, n, warmup=True) for n in range(1, 131)) < 0.01
