"""What changed in the optimization section on resume, and putting it into a restored state."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from volseg.errors import VolsegError
from volseg.train.optim import Schedule
from volseg.train.resume_settings import apply_settings, describe, optimizer_changes


def conf(lr=1e-3, wd=0.01, min_lr=1e-6, epochs=10, name="AdamW", sched="cosine"):
    return {
        "optimization": {
            "max_epochs": epochs,
            "max_steps": None,
            "optimizer": {"name": name, "lr": lr, "weight_decay": wd},
            "scheduler": {"name": sched, "min_lr": min_lr},
        }
    }


def test_changes_are_listed_in_key_order():
    changes = optimizer_changes(conf(), conf(lr=1e-4, min_lr=1e-7, epochs=20))
    assert describe(changes) == (
        "optimization.max_epochs: 10 -> 20, optimization.optimizer.lr: 0.001 -> 0.0001, "
        "optimization.scheduler.min_lr: 1e-06 -> 1e-07"
    )
    assert optimizer_changes(conf(), conf()) == []


@pytest.mark.parametrize(
    ("section", "new"), [("optimizer", {"name": "SGD"}), ("scheduler", {"sched": "step"})]
)
def test_another_kind_is_refused(section, new):
    with pytest.raises(VolsegError, match=f"cannot resume with optimization.{section}.name"):
        optimizer_changes(conf(), conf(**new))


def test_cosine_continues_from_the_new_lr_at_the_same_step():
    param = torch.nn.Parameter(torch.zeros(2, 2))
    opt = torch.optim.AdamW([{"params": [param], "weight_decay": 0.01}], lr=1e-3)
    sched_cfg = SimpleNamespace(name="cosine", min_lr=0.0, warmup_start_lr=0.1)
    old = Schedule(opt, sched_cfg, lr=1e-3, steps_per_epoch=1, total_steps=4, mode="min")
    for _ in range(2):
        opt.step()
        old.after_step()
    state = old.state_dict()
    new = Schedule(opt, sched_cfg, lr=1e-2, steps_per_epoch=1, total_steps=4, mode="min")
    new.load_state_dict(state)
    opt_cfg = SimpleNamespace(lr=1e-2, weight_decay=0.0, betas=[0.9, 0.99], eps=1e-8)
    apply_settings(opt, new, opt_cfg, sched_cfg, step=2)
    assert new.lr == pytest.approx(1e-2 * 0.5)  # halfway through the cosine of the new lr
    group = opt.param_groups[0]
    assert group["weight_decay"] == 0.0 and group["betas"] == (0.9, 0.99)
    new.after_step()
    assert new.lr == pytest.approx(1e-2 * 0.5 * (1 + torch.cos(torch.tensor(torch.pi * 0.75))))
