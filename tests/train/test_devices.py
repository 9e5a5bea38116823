"""Devices and precision from the config; seeds and RNG states."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from volseg.errors import VolsegError
from volseg.train.devices import fabric_options, resolve_seed, rng_state, set_rng_state


def cfg(gpus: int, precision: str = "32"):
    return SimpleNamespace(
        system=SimpleNamespace(training=SimpleNamespace(num_gpus=gpus)),
        optimization=SimpleNamespace(precision=precision),
    )


def test_cpu_gpu_ddp_options() -> None:
    cpu = {"accelerator": "cpu", "devices": 1, "strategy": "auto", "precision": "32-true"}
    assert fabric_options(cfg(-1), gpus_available=0) == cpu
    assert fabric_options(cfg(0), gpus_available=4) == cpu
    one = fabric_options(cfg(1, "bf16-mixed"), gpus_available=2)
    assert one == {
        "accelerator": "cuda",
        "devices": 1,
        "strategy": "auto",
        "precision": "bf16-mixed",
    }
    many = fabric_options(cfg(-1, "16-mixed"), gpus_available=4)
    assert many["devices"] == 4 and many["strategy"] == "ddp" and many["precision"] == "16-mixed"


def test_refusals() -> None:
    with pytest.raises(VolsegError, match=r"'16-mixed' needs a GPU.*precision='32'"):
        fabric_options(cfg(-1, "16-mixed"), gpus_available=0)
    with pytest.raises(VolsegError, match="'bf16-mixed' needs a GPU"):
        fabric_options(cfg(0, "bf16-mixed"), gpus_available=1)
    with pytest.raises(VolsegError, match="num_gpus` is 2 but 1 GPU"):
        fabric_options(cfg(2), gpus_available=1)


def test_rng_round_trip() -> None:
    resolved = resolve_seed(None)
    assert 0 <= resolved < 2**31 and resolve_seed(7) == 7
    state = rng_state()
    first = (random.random(), np.random.random(), torch.rand(3))  # noqa: NPY002
    set_rng_state(state)
    second = (random.random(), np.random.random(), torch.rand(3))  # noqa: NPY002
    assert first[0] == second[0] and first[1] == second[1]
    assert torch.equal(first[2], second[2])


def test_rng_state_survives_weights_only_checkpoint(tmp_path) -> None:
    path = tmp_path / "s.pt"
    torch.save({"rng": rng_state()}, path)
    first = (random.random(), np.random.random(), torch.rand(2))  # noqa: NPY002
    set_rng_state(torch.load(path, weights_only=True)["rng"])
    second = (random.random(), np.random.random(), torch.rand(2))  # noqa: NPY002
    assert first[:2] == second[:2] and torch.equal(first[2], second[2])
