"""The config's tables are the components' own: every key it accepts reaches the component,
and a key it calls unused changes nothing (architectures, optimizers, schedulers; targets,
losses and decoders are checked in tests/data, tests/losses and tests/decode)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
import torch

from tests.models.test_registry import SMALL
from volseg.config import loads
from volseg.config.schema_model import ARCHITECTURE_KEYS, DEFAULT_FILTERS, ModelConfig
from volseg.config.schema_run import (
    OPTIMIZER_KEYS,
    OPTIMIZERS,
    SCHEDULER_KEYS,
    SCHEDULERS,
    OptimizerConfig,
    SchedulerConfig,
)
from volseg.models import build, options
from volseg.models._config import DEFAULTS
from volseg.train.optim import Schedule, build_optimizer, param_groups

# --- architectures -------------------------------------------------------------------------


def test_model_defaults_are_the_networks():
    config = ModelConfig()
    for key, value in DEFAULTS.items():
        assert getattr(config, key) == value, key
    assert ARCHITECTURE_KEYS is options.USED_KEYS
    assert DEFAULT_FILTERS is options.DEFAULT_FILTERS
    # a model built from a config with every key at its default equals one built from nothing
    cfg = loads("model: {filters: [4, 8], input_size: [8, 16, 16]}").model
    a, b = build(cfg), build({"filters": [4, 8]})
    assert repr(a) == repr(b) and a.out_channels == b.out_channels == 3


def test_config_choices_are_the_networks():
    fields = {f.name: f for f in dataclasses.fields(ModelConfig)}

    def choices(key):
        return set(fields[key].metadata["choices"])

    assert choices("norm") == set(options.NORMS)
    assert choices("activation") == set(options.ACTIVATIONS)
    assert choices("upsample") == set().union(*options.UPSAMPLE.values())
    assert choices("mednext_size") == set(options.MEDNEXT_SIZES)
    assert choices("mednext_kernel_size") == set(options.MEDNEXT_KERNELS)
    assert choices("architecture") == set(options.ARCHITECTURES)


# one value per architecture-specific key, different from the default (per architecture where
# the default or the rule differs)
VALUES = {
    "filters": [4, 8, 16],
    "strides": [[1, 2, 2], 2],
    "kernel_size": [1, 3, 3],
    "num_2d_levels": 1,
    "norm": "group",
    "activation": "elu",
    "dropout": 0.2,
    "upsample": "deconv",
    "spatial_dims": 2,
    "mednext_size": "B",
    "mednext_kernel_size": 5,
    "num_res_units": 1,
}
OWN_VALUES = {
    ("monai_basic_unet3d", "filters"): [4, 4, 8, 8, 16, 8],
    ("attention_unet", "filters"): [4, 8, 12],
    ("monai_unet", "filters"): [4, 8, 12],
    ("monai_unet", "num_res_units"): 2,
    ("attention_resunet", "filters"): [4, 8, 12],
    ("monai_basic_unet3d", "upsample"): "pixelshuffle",
}
BASE = SMALL  # the narrow networks of the registry tests


def _model(arch: str, **extra):
    model = {"architecture": arch, **BASE[arch], **extra}
    model["input_size"] = [1, 16, 16] if extra.get("spatial_dims") == 2 else [16, 32, 32]
    return build(loads(json.dumps({"model": model})).model)  # JSON is YAML


def _arch_cases():
    for arch, keys in options.USED_KEYS.items():
        for key in sorted(keys):
            yield arch, key


@pytest.mark.parametrize(("arch", "key"), list(_arch_cases()))
def test_every_model_key_the_config_accepts_reaches_the_network(arch, key):
    value = OWN_VALUES.get((arch, key), VALUES[key])
    plain, changed = _model(arch), _model(arch, **{key: value})
    shapes = [[p.shape for p in m.parameters()] for m in (plain, changed)]
    assert repr(plain) != repr(changed) or shapes[0] != shapes[1]


def test_config_import_does_not_import_torch():
    code = "import sys, volseg.config; volseg.config.loads(''); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- optimizers ----------------------------------------------------------------------------

OPT_VALUES = {"lr": 0.01, "weight_decay": 0.3, "betas": [0.5, 0.6], "eps": 1e-4, "momentum": 0.3}


def _optimizer(opt) -> tuple:
    net = torch.nn.Linear(2, 2)
    made = build_optimizer(param_groups(net, torch.nn.Module(), opt.weight_decay), opt)
    groups = [{k: v for k, v in g.items() if k != "params"} for g in made.param_groups]
    return type(made).__name__, repr(groups)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_keys_are_exactly_the_ones_it_uses(name):
    every = {f.name for f in dataclasses.fields(OptimizerConfig)} - {"name"}
    assert every == set(OPT_VALUES)
    used = OPTIMIZER_KEYS[name] | {"lr", "weight_decay"}
    base = OptimizerConfig(name=name)
    for key in sorted(every):
        changed = dataclasses.replace(base, **{key: OPT_VALUES[key]})
        assert (_optimizer(changed) != _optimizer(base)) == (key in used), key
    # and the config passes them through
    text = f"optimization: {{optimizer: {{name: {name}, lr: 0.01}}}}"
    assert loads(text).optimization.optimizer.lr == 0.01


# --- schedulers ----------------------------------------------------------------------------

SCHED_VALUES = {
    "warmup_epochs": 2,
    "warmup_start_lr": 0.5,
    "min_lr": 8e-4,
    "step_size": 3,
    "gamma": 0.5,
    "patience": 2,
    "factor": 0.2,
}


def _trajectory(sched) -> list[float]:
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    schedule = Schedule(opt, sched, lr=1e-3, steps_per_epoch=1, total_steps=40, mode="min")
    lrs = []
    for _ in range(40):  # 40 epochs of one step; the defaults step at 30, plateau at 12, 23, 34
        schedule.after_step()
        schedule.after_validation(1.0)  # never improves: the plateau schedule reduces
        lrs.append(round(schedule.lr, 12))
    return lrs


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_keys_are_exactly_the_ones_it_uses(name):
    every = {f.name for f in dataclasses.fields(SchedulerConfig)} - {"name"}
    assert every == set(SCHED_VALUES)
    base = SchedulerConfig(name=name)
    for key in sorted(every):
        changed = dataclasses.replace(base, **{key: SCHED_VALUES[key]})
        differs = _trajectory(changed) != _trajectory(base)
        assert differs == (key in SCHEDULER_KEYS[name]), key
