"""``volseg.losses.build``: defaults, config-file settings, and one-sentence errors."""

import pytest
from omegaconf import OmegaConf

from volseg import losses
from volseg.errors import VolsegError

BASE = {
    "out_channels": 3,
    "loss_functions": ["DiceLoss", "WeightedBCEWithLogitsLoss", "SmoothL1Loss"],
    "loss_kwargs": [{}, {}, {"tanh": True}],
    "multi_task_config": [
        [0, 1, "binary", [0, 1]],
        [1, 2, "instance_boundary", [1]],
        [2, 3, "instance_edt", [2]],
    ],
}
TARGETS = ["binary", "instance_boundary", "instance_edt"]


def test_terms_and_scale_weights():
    loss = losses.build(OmegaConf.create(BASE), targets=TARGETS)
    assert loss.term_names == [
        "binary/DiceLoss",
        "binary/WeightedBCEWithLogitsLoss",
        "instance_boundary/WeightedBCEWithLogitsLoss",
        "instance_edt/SmoothL1Loss",
    ]
    assert loss.scale_weights == [1.0]
    ds = {**BASE, "architecture": "rsunet", "filters": [4, 8, 16, 32], "deep_supervision": True}
    assert losses.build(ds).scale_weights == [1.0, 0.5, 0.25, 0.125]


def test_default_config_file_settings_build():
    from volseg.config import loads

    cfg = loads("model: {architecture: rsunet}\n")
    loss = losses.build(cfg.model, targets=cfg.data.label_transform.targets)
    assert loss.n_target_channels == cfg.model.out_channels


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            {"loss_functions": ["DiceLos", "BCEWithLogitsLoss", "MSELoss"]},
            "did you mean 'DiceLoss'",
        ),
        ({"loss_kwargs": [{"smoth": 1}, {}, {}]}, "did you mean 'smooth'"),
        ({"loss_weights": [1.0]}, "loss_weights must have 3 entries"),
        ({"loss_kwargs": [{}]}, "loss_kwargs must have 3 entries"),
        ({"loss_kwargs": [{}, {}, {"tanh": False}]}, "tanh=False but target 'instance_edt'"),
        ({"loss_kwargs": [{}, {}, {"beta": -1}]}, "beta must be > 0"),
        ({"loss_balancing": "magic"}, "none, uncertainty, gradnorm"),
        ({"loss_functions": []}, "non-empty list"),
    ],
)
def test_bad_loss_settings(change, match):
    with pytest.raises(VolsegError, match=match):
        losses.build({**BASE, **change}, targets=TARGETS)


def test_probability_losses_refuse_distance_targets():
    mtc = [[0, 1, "binary", [0]], [1, 2, "instance_boundary", [1]], [2, 3, "instance_edt", [1]]]
    with pytest.raises(VolsegError, match="WeightedBCEWithLogitsLoss cannot train the distance"):
        losses.build({**BASE, "multi_task_config": mtc})


@pytest.mark.parametrize(
    ("cfg", "targets", "match"),
    [
        (BASE, ["binary", "instance_edt"], "'instance_boundary' is not among"),
        (BASE, ["binary", "binary", "instance_boundary", "instance_edt"], "more than once"),
        (
            {**BASE, "multi_task_config": [[0, 2, "binary", [0]], [2, 3, "instance_edt", [2]]]},
            TARGETS,
            "maps 2 output channels",
        ),
        (
            {"out_channels": 2, "loss_functions": ["DiceLoss"]},
            ["binary"],
            "without model.multi_task_config",
        ),
        ({"out_channels": 1, "loss_functions": ["DiceLoss"]}, ["instance_edt"], "as probabilities"),
        (BASE, ["mito"], "unknown target 'mito'"),
    ],
)
def test_channel_counts_must_match_targets(cfg, targets, match):
    with pytest.raises(VolsegError, match=match):
        losses.build(cfg, targets=targets)


@pytest.mark.parametrize("weights", [[1.0, 0.5], [1.0, 0.5, 0.25, 0.1, 0.1], 1.0])
def test_deep_supervision_weight_list_of_wrong_length(weights):
    cfg = {
        **BASE,
        "architecture": "rsunet",
        "filters": [4, 8, 16],
        "deep_supervision": True,
        "deep_supervision_weights": weights,
    }
    with pytest.raises(VolsegError, match="returns 3 outputs"):
        losses.build(cfg)
