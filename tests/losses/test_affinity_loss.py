"""The loss on affinity targets: channel mapping, per-channel ignore, deep supervision."""

import pytest
import torch

from volseg import losses
from volseg.errors import VolsegError
from volseg.losses.scales import resize_pair


def model_cfg(out, rows, names=("BCEWithLogitsLoss", "DiceLoss")):
    return {"out_channels": out, "loss_functions": list(names), "multi_task_config": rows}


AFF12 = {"name": "affinity", "kwargs": {"offsets": "anisotropic-12"}}


def test_twelve_output_channels_map_onto_the_twelve_offsets_after_other_targets():
    rows = [[0, 1, "binary", [0, 1]], [1, 13, "affinity", [0, 1]]]
    loss = losses.build(model_cfg(13, rows), targets=[{"name": "binary"}, AFF12])
    assert loss.target_slices == [(0, 1), (1, 13)] and loss.n_target_channels == 13
    out = torch.randn(1, 13, 4, 8, 8)
    target = torch.randint(0, 2, (1, 13, 4, 8, 8)).float()
    total, parts = loss(out, target)
    assert torch.isfinite(total) and "affinity/DiceLoss" in parts


def test_nm_offsets_count_without_a_voxel_size():
    aff = {"name": "affinity", "kwargs": {"offsets": [[-40, 0, 0], [0, -8, 0]], "unit": "nm"}}
    loss = losses.build(model_cfg(2, [[0, 2, "affinity", [0, 1]]]), targets=[aff])
    assert loss.target_slices == [(0, 2)]


def test_channel_mismatch_is_one_sentence():
    with pytest.raises(VolsegError) as info:
        losses.build(model_cfg(3, [[0, 3, "affinity", [0, 1]]]), targets=[AFF12])
    assert str(info.value) == (
        "model.multi_task_config maps 3 output channels (0..2) to target 'affinity', which has "
        "12 channels (one per offset)."
    )
    with pytest.raises(VolsegError, match="unknown affinity offset set"):
        losses.build(model_cfg(3, [[0, 3, "affinity", [0, 1]]]),
                     targets=[{"name": "affinity", "kwargs": {"offsets": "nope"}}])  # fmt: skip


@pytest.mark.parametrize("name", ["BCEWithLogitsLoss", "DiceLoss"])
def test_an_ignored_channel_contributes_nothing(name):
    torch.manual_seed(0)
    loss = losses.build(
        model_cfg(3, [[0, 3, "affinity", [0]]], names=(name,)), targets=["affinity"]
    )
    out = torch.randn(2, 3, 4, 8, 8)
    target = torch.randint(0, 2, (2, 3, 4, 8, 8)).float()
    target[:, 2] = -1  # e.g. an offset that leaves the patch
    target[:, 1, :, :, 0] = -1  # the first x column of a backward x offset
    base = loss(out, target)[0]
    changed = out.clone()
    changed[:, 2] = torch.randn_like(changed[:, 2]) * 10
    changed[:, 1, :, :, 0] += 5.0
    assert torch.allclose(loss(changed, target)[0], base)
    changed[:, 0] += 1.0
    assert not torch.allclose(loss(changed, target)[0], base)


def test_deep_supervision_keeps_ignored_pairs_out_of_coarse_voxels():
    target = torch.randint(0, 2, (1, 3, 4, 8, 8)).float()
    target[:, 0, 0] = -1  # first z plane of a backward z offset
    target[:, 2, :, :, 0] = -1
    valid = (target != -1).float()
    small, small_valid = resize_pair(target, valid, (2, 4, 4))
    assert (small_valid[:, 0, 0] == 0).all() and (small_valid[:, 0, 1] == 1).all()
    assert (small_valid[:, 2, :, :, 0] == 0).all() and (small_valid[:, 2, :, :, 1:] == 1).all()
    kept = small[small_valid > 0]
    assert kept.min() >= 0 and kept.max() <= 1


def test_affinity_terms_count_at_full_resolution_only():
    """An offset of one voxel names no pair on a coarser grid: the coarse deep-supervision
    outputs of an affinity task add nothing, while those of a binary task do."""
    from volseg.losses.balancing import NoBalancing
    from volseg.losses.multitask import MultiTaskLoss
    from volseg.losses.pixel import BCEWithLogitsLoss
    from volseg.models.heads import Task

    def make(name):
        return MultiTaskLoss(tasks=[Task(name, 0, 3, (0,))], target_slices=[(0, 3)],
                             n_target_channels=3, losses=[BCEWithLogitsLoss()],
                             loss_names=["BCE"], loss_weights=[1.0], scale_weights=[1.0, 0.5],
                             balancing=NoBalancing())  # fmt: skip

    torch.manual_seed(0)
    target = torch.randint(0, 2, (1, 3, 4, 8, 8)).float()
    full = torch.randn(1, 3, 4, 8, 8)
    coarse = torch.randn(1, 3, 2, 4, 4)
    aff = make("affinity")
    assert torch.allclose(aff([full, coarse], target)[0], aff([full], target)[0])
    assert torch.allclose(aff([full, coarse], target)[0], aff([full, coarse * 5], target)[0])
    binary = make("binary")
    assert not torch.allclose(binary([full, coarse], target)[0], binary([full], target)[0])
