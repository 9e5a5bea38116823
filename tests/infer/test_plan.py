"""Prediction plans: checkpoint/config agreement, channel names, devices, windows."""

import pytest
import torch

from volseg.errors import VolsegError
from volseg.infer.plan import channel_names, check_model_config, check_window, pick_device
from volseg.models import build

MODEL = {
    "architecture": "rsunet",
    "filters": [4, 8],
    "out_channels": 4,
    "loss_functions": ["BCEWithLogitsLoss", "MSELoss"],
    "multi_task_config": [[0, 2, "binary", [0]], [2, 3, "instance_boundary", [0]],
                          [3, 4, "semantic_edt", [1]]],
}  # fmt: skip


def test_channel_names_follow_the_tasks():
    assert channel_names(MODEL) == ("binary", "binary", "instance_boundary", "semantic_edt")
    assert channel_names({"out_channels": 2}) == ("binary", "binary")


def test_matching_config_passes_and_each_mismatch_is_named():
    check_model_config(dict(MODEL), MODEL, "m.pt")
    check_model_config(
        {**MODEL, "loss_weights": [2.0, 1.0], "input_size": [4, 8, 8]}, MODEL, "m.pt"
    )
    with pytest.raises(VolsegError, match=r"model\.architecture='rsunet' in the checkpoint"):
        check_model_config({**MODEL, "architecture": "monai_unet"}, MODEL, "m.pt")
    with pytest.raises(VolsegError, match=r"model\.out_channels=4 .* but 3 in the config"):
        check_model_config({**MODEL, "out_channels": 3}, MODEL, "m.pt")
    with pytest.raises(VolsegError, match=r"model\.norm='batch' in the checkpoint but 'group'"):
        check_model_config({**MODEL, "norm": "group"}, MODEL, "m.pt")


def test_devices():
    assert pick_device(0) == "cpu"
    if not torch.cuda.is_available():
        assert pick_device(-1) == "cpu"
        with pytest.raises(VolsegError, match="no CUDA device is visible"):
            pick_device(1)


def test_window_must_be_divisible_by_the_down_factor():
    model = build({"architecture": "rsunet", "filters": [4, 8, 16]})  # down factor 4
    check_window(model, (8, 32, 32), "model.input_size")
    with pytest.raises(VolsegError, match=r"model.input_size \[8, 30, 32\] must be divisible"):
        check_window(model, (8, 30, 32), "model.input_size")
    flat = build({"architecture": "rsunet", "filters": [4, 8], "spatial_dims": 2})
    check_window(flat, (1, 32, 32), "w")  # z is free for 2D networks
