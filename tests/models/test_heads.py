"""Tasks from ``multi_task_config`` and the one place activations are applied."""

import pytest
import torch

from volseg.errors import VolsegError
from volseg.models import apply_activations, channel_activations, parse_tasks

CFG = {
    "out_channels": 3,
    "loss_functions": ["BCEWithLogitsLoss", "DiceLoss", "SmoothL1Loss"],
    "multi_task_config": [
        [0, 1, "binary", [0, 1]],
        [1, 2, "instance_boundary", [0]],
        [2, 3, "instance_edt", [2]],
    ],
}


def test_sigmoid_on_probabilities_tanh_on_distances():
    logits = torch.randn(2, 3, 4, 5, 6)
    maps = apply_activations(logits, CFG)
    torch.testing.assert_close(maps[:, :2], torch.sigmoid(logits[:, :2]))
    torch.testing.assert_close(maps[:, 2], torch.tanh(logits[:, 2]))
    assert channel_activations(CFG) == ["sigmoid", "sigmoid", "tanh"]


def test_unbatched_and_deep_supervision_lists():
    logits = torch.randn(3, 4, 5, 6)
    maps = apply_activations(logits, CFG, channel_dim=0)
    torch.testing.assert_close(maps[2], torch.tanh(logits[2]))
    out = apply_activations([logits[None], logits[None, :, :2]], CFG)
    assert isinstance(out, list) and len(out) == 2


def test_order_of_entries_does_not_matter():
    cfg = {**CFG, "multi_task_config": CFG["multi_task_config"][::-1]}
    logits = torch.randn(1, 3, 2, 2, 2)
    torch.testing.assert_close(apply_activations(logits, cfg), apply_activations(logits, CFG))


def test_without_multi_task_config_everything_is_probability():
    tasks = parse_tasks({"out_channels": 2, "loss_functions": ["DiceLoss"]})
    assert [(t.name, t.start, t.end, t.losses, t.kind) for t in tasks] == [
        ("binary", 0, 2, (0,), "probability")
    ]


def test_channel_count_mismatch():
    with pytest.raises(VolsegError, match="logits have 2 channels but model.out_channels is 3"):
        apply_activations(torch.zeros(1, 2, 1, 1, 1), CFG)


@pytest.mark.parametrize(
    ("mtc", "match"),
    [
        ([[0, 1, "binary", [0]], [2, 3, "instance_edt", [2]]], "leaves a gap"),
        ([[0, 2, "binary", [0]], [1, 3, "instance_edt", [2]]], "overlaps"),
        ([[0, 1, "binary", [0]], [1, 2, "instance_edt", [2]]], "covers channels 0..1"),
        ([[0, 3, "mito", [0]]], "unknown target 'mito'"),
        ([[0, 3, "binary", [5]]], "loss index 5"),
        ([[0, 3, "binary", []]], "must list loss indices"),
        ([[1, 0, "binary", [0]]], "end 0 <= start 1"),
        ([[0, 3, "binary"]], r"\[start, end, target, \[loss indices\]\]"),
        ([["0", 3, "binary", [0]]], "must be an integer"),
    ],
)
def test_bad_multi_task_config(mtc, match):
    with pytest.raises(VolsegError, match=match):
        parse_tasks({**CFG, "multi_task_config": mtc})
