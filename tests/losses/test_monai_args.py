"""volseg's Dice, Tversky and focal losses equal MONAI's on unmasked input (to 1e-6), with
MONAI's argument names; settings volseg does not compute are refused, at config check too."""

import monai.losses as ml
import numpy as np
import pytest
import torch

from volseg.config import loads
from volseg.errors import VolsegError
from volseg.losses import DiceLoss, FocalLoss, TverskyLoss


def batch(channels: int = 1, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn((2, channels, 6, 10, 12), generator=g, dtype=torch.float64) * 2
    target = (torch.rand((2, channels, 6, 10, 12), generator=g) > 0.7).double()
    target[1, 0] = 0  # one sample without foreground in channel 0
    return logits, target, torch.ones_like(target)


@pytest.mark.filterwarnings("ignore:single channel prediction")  # MONAI, like volseg, keeps it
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"smooth_nr": 0.0, "smooth_dr": 1e-6},
        {"smooth_nr": 1.0, "smooth_dr": 1.0, "batch": False},
        {"squared_pred": True},
        {"include_background": False},
        {"include_background": False, "batch": False},
    ],
)
def test_dice_equals_monai(kwargs, channels):
    logits, target, valid = batch(channels)
    ours = DiceLoss(**kwargs)(torch.sigmoid(logits), target, valid)
    theirs = ml.DiceLoss(sigmoid=True, **{"batch": True, **kwargs})(logits, target)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore:single channel prediction")
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": 0.3, "beta": 0.7},
        {"alpha": 0.5, "beta": 0.5, "smooth_nr": 1.0, "smooth_dr": 1.0, "batch": False},
        {"alpha": 0.2, "beta": 0.8, "include_background": False},
    ],
)
def test_tversky_equals_monai(kwargs, channels):
    logits, target, valid = batch(channels, seed=1)
    ours = TverskyLoss(**kwargs)(torch.sigmoid(logits), target, valid)
    theirs = ml.TverskyLoss(sigmoid=True, **{"batch": True, **kwargs})(logits, target)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore:single channel prediction")
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": None, "gamma": 2.0},
        {"alpha": 0.25, "gamma": 2.0},
        {"alpha": 0.75, "gamma": 0.5},
        {"alpha": None, "gamma": 0.0, "include_background": False},
    ],
)
def test_focal_equals_monai(kwargs, channels):
    logits, target, valid = batch(channels, seed=2)
    ours = FocalLoss(**kwargs)(logits, target, valid)
    theirs = ml.FocalLoss(**kwargs)(logits, target)
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=0, atol=1e-6)


def test_the_mask_is_what_volseg_adds():
    logits, target, valid = batch(1, seed=3)
    valid[:, :, :3] = 0
    inside = (slice(None), slice(None), slice(3, None))
    masked = DiceLoss()(torch.sigmoid(logits), target, valid)
    cropped = ml.DiceLoss(sigmoid=True, batch=True)(logits[inside], target[inside])
    np.testing.assert_allclose(masked.item(), cropped.item(), rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("loss", "kwargs", "message"),
    [
        (DiceLoss, {"sigmoid": False}, "sigmoid=false is not supported"),
        (DiceLoss, {"softmax": True}, "softmax / to_onehot_y"),
        (TverskyLoss, {"to_onehot_y": True}, "softmax / to_onehot_y"),
        (FocalLoss, {"use_softmax": True}, "softmax / to_onehot_y"),
        (FocalLoss, {"reduction": "sum"}, "reduction='sum' is not supported"),
        (DiceLoss, {"smooth": 1.0, "smooth_nr": 1.0}, "not both"),
    ],
)
def test_settings_volseg_does_not_compute_are_refused(loss, kwargs, message):
    with pytest.raises(VolsegError, match=message):
        loss(**kwargs)


BASE = """
model:
  architecture: rsunet
  filters: [4, 8]
  input_size: [8, 32, 32]
  out_channels: 1
  loss_functions: [DiceLoss, BCEWithLogitsLoss]
  loss_weights: [1.0, 1.0]
  loss_kwargs:
    - {KW}
    - {}
  multi_task_config: [[0, 1, binary, [0, 1]]]
data:
  label_transform: {targets: [{name: binary}]}
"""


def test_pytc_style_loss_arguments_pass_the_config_check():
    text = BASE.replace("{KW}", "{include_background: false, sigmoid: true, smooth_nr: 1e-5, "
                                "smooth_dr: 1e-5}")  # fmt: skip
    cfg = loads(text)
    assert cfg.model.loss_kwargs[0]["smooth_nr"] == 1e-5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ("{sigmoid: false}", r"loss_kwargs\[0\]`: DiceLoss: sigmoid=false is not supported"),
        ("{reduction: none}", "reduction='none' is not supported"),
    ],
)
def test_the_config_check_refuses_what_the_loss_would(kwargs, message):
    with pytest.raises(VolsegError, match=message):
        loads(BASE.replace("{KW}", kwargs))


def test_the_config_table_lists_exactly_each_loss_s_arguments():
    import inspect

    from volseg.config.schema_model import LOSS_KWARGS
    from volseg.losses import LOSSES

    assert set(LOSS_KWARGS) == set(LOSSES)
    for name, cls in LOSSES.items():
        accepted = {p for p in inspect.signature(cls).parameters if p != "self"}
        assert set(LOSS_KWARGS[name]) == accepted, name
