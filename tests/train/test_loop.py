"""The training epoch: accumulation, clipping, max_steps, logging, NaN and OOM handling."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from volseg.errors import VolsegError
from volseg.losses import build as build_loss
from volseg.train import time_budget
from volseg.train.loop import Trainable, TrainingStopped, is_oom, train_epoch
from volseg.train.optim import Schedule

LOSS = {
    "architecture": "rsunet",
    "out_channels": 1,
    "loss_functions": ["BCEWithLogitsLoss"],
    "loss_weights": [1.0],
    "loss_kwargs": [{}],
    "multi_task_config": [],
}


class Recorder:
    def __init__(self) -> None:
        self.rows = []

    def log(self, values, *, step, epoch):
        self.rows.append((step, epoch, dict(values)))


def session(
    net: nn.Module, *, accum: int = 1, clip: float = 0.0, max_steps=None, every=1, budget=None
):
    from lightning.fabric import Fabric

    fabric = Fabric(accelerator="cpu", devices=1)
    loss = build_loss(LOSS)
    trainable = Trainable(net, loss)
    opt = torch.optim.SGD(trainable.parameters(), lr=0.5)
    trainable, opt = fabric.setup(trainable, opt)
    cfg = SimpleNamespace(
        optimization=SimpleNamespace(
            accumulate_grad_batches=accum, gradient_clip_val=clip, max_steps=max_steps
        ),
        monitor=SimpleNamespace(logging=SimpleNamespace(every_n_steps=every)),
        system=SimpleNamespace(training=SimpleNamespace(batch_size=2)),
        model=SimpleNamespace(input_size=[2, 4, 4], filters=None),
    )
    schedule = Schedule(
        opt, SimpleNamespace(name="none"), lr=0.5, steps_per_epoch=1, total_steps=1, mode="min"
    )
    return SimpleNamespace(
        cfg=cfg,
        fabric=fabric,
        trainable=trainable,
        optimizer=opt,
        schedule=schedule,
        ema=None,
        net=net,
        step=0,
        epoch=0,
        is_main=True,
        distributed=False,
        logger=Recorder(),
        run_dir="RUN",
        budget=budget,
    )


def batches(n: int, seed: int = 0) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [
        {
            "image": torch.randn(2, 1, 2, 4, 4, generator=g),
            "targets": (torch.rand(2, 1, 2, 4, 4, generator=g) > 0.5).float(),
            "mask": torch.ones(2, 1, 2, 4, 4),
        }
        for _ in range(n)
    ]


def reference_steps(net: nn.Module, data, accum: int, lr: float = 0.5) -> nn.Module:
    net = copy.deepcopy(net)
    loss = build_loss(LOSS)
    for i in range(0, len(data), accum):
        net.zero_grad()
        group = data[i : i + accum]
        for b in group:
            (loss(net(b["image"]), b["targets"], b["mask"])[0] / accum).backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
    return net


@pytest.mark.parametrize("accum", [1, 2, 3])
def test_accumulation_matches_manual_sgd(accum: int) -> None:
    net = nn.Conv3d(1, 1, 3, padding=1)
    want = reference_steps(net, batches(4), accum)
    s = session(net, accum=accum)
    result = train_epoch(s, batches(4), n_batches=4)
    steps = -(-4 // accum)
    assert result.steps == steps and s.step == steps
    assert [(r[0], r[1]) for r in s.logger.rows] == [(k, 1) for k in range(1, steps + 1)]
    for a, b in zip(net.parameters(), want.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_clipping_bounds_the_step() -> None:
    net = nn.Conv3d(1, 1, 3, padding=1)
    before = torch.cat([p.detach().flatten().clone() for p in net.parameters()])
    s = session(net, clip=1e-3)
    train_epoch(s, batches(1), n_batches=1)
    after = torch.cat([p.detach().flatten() for p in net.parameters()])
    assert torch.linalg.norm(after - before) == pytest.approx(0.5 * 1e-3, rel=1e-4)
    assert s.logger.rows[0][2]["train/grad_norm"] > 1e-3  # the norm before clipping


def test_max_steps_and_log_every() -> None:
    s = session(nn.Conv3d(1, 1, 1), max_steps=3, every=2)
    result = train_epoch(s, batches(6), n_batches=6)
    assert result.reached_limit and s.step == 3
    assert [r[0] for r in s.logger.rows] == [2]
    assert set(s.logger.rows[0][2]) >= {"train/loss", "train/lr", "train/binary/BCEWithLogitsLoss"}


def test_time_budget_ends_the_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(float(t) for t in range(100))  # one second per reading
    monkeypatch.setattr(time_budget, "CLOCK", lambda: next(clock))
    s = session(nn.Conv3d(1, 1, 1), budget=time_budget.TimeBudget(4.0))  # started at 0
    result = train_epoch(s, batches(5), n_batches=5)
    # The epoch starts at 1 s, steps end at 2 s and 3 s; a third would end at 4 s: no room.
    assert result.reached_limit and s.step == 2 and s.budget.step_seconds == 1.0
    assert s.schedule.time_fraction == 1.0  # the loop hands the share used to the schedule
    s = session(nn.Conv3d(1, 1, 1), budget=time_budget.TimeBudget(1e6))
    assert not train_epoch(s, batches(3), n_batches=3).reached_limit and s.step == 3


def test_non_finite_loss_and_oom() -> None:
    net = nn.Conv3d(1, 1, 1)
    data = batches(2)
    data[1]["image"][0, 0, 0, 0, 0] = float("inf")
    s = session(net)
    with pytest.raises(
        TrainingStopped,
        match=r"loss became inf at epoch 1, step 2; training stopped and no checkpoint was written",
    ):
        train_epoch(s, data, n_batches=2)
    assert s.step == 1

    class Boom(nn.Conv3d):
        def forward(self, x):
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: out of memory")

    with pytest.raises(VolsegError, match="out of memory during training"):
        train_epoch(session(Boom(1, 1, 1)), batches(1), n_batches=1)
    assert is_oom(torch.cuda.OutOfMemoryError("x")) and not is_oom(RuntimeError("shape"))
