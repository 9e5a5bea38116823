"""Config checks of the affinity target: offsets, channel counts and the training patch."""

from __future__ import annotations

import pytest

from volseg.config import loads
from volseg.errors import VolsegError

GRID = "train_resolution: [40, 8, 8], "
LOSSES = "loss_functions: [BCEWithLogitsLoss, DiceLoss], loss_weights: [1, 1], loss_kwargs: []"


def affinity(
    kwargs: str, *, out: int = 3, rows: str | None = None, size="[16, 32, 32]", grid: str = ""
) -> str:
    rows = rows or f"[[0, {out}, affinity, [0, 1]]]"
    return (
        f"model: {{out_channels: {out}, input_size: {size}, {LOSSES}, multi_task_config: {rows}}}\n"
        f"data: {{{grid}label_transform: {{targets: [{{name: affinity, kwargs: {kwargs}}}]}}}}"
    )


def rejects(text: str, pattern: str) -> None:
    with pytest.raises(VolsegError, match=pattern) as info:
        loads(text, source="c.yaml")
    assert str(info.value).startswith("c.yaml: ")


def test_presets_and_lists_load() -> None:
    cfg = loads(affinity("{offsets: nearest}"))
    assert cfg.data.label_transform.targets[0].kwargs.offsets == "nearest"
    cfg = loads(affinity("{offsets: [[-1, 0, 0], [0, -3, 0]]}", out=2))
    assert cfg.data.label_transform.targets[0].kwargs.offsets == [[-1, 0, 0], [0, -3, 0]]
    cfg = loads(affinity("{offsets: isotropic-9}", out=9))
    assert cfg.model.out_channels == 9
    text = affinity("{offsets: [[-40, 0, 0], [0, -16, 0]], unit: nm}", out=2, grid=GRID)
    assert loads(text).data.label_transform.targets[0].kwargs.unit == "nm"


def test_unknown_preset_and_bad_values() -> None:
    rejects(affinity("{offsets: nearst}"), r"targets\[0\].kwargs.offsets`: unknown affinity offset")
    rejects(affinity("{offsets: [[-1, 0]]}", out=1), r"must be \[dz, dy, dx\]")
    rejects(affinity("{offsets: [[0, 0, 0]]}", out=1), "is zero")
    rejects(affinity("{unit: inch}"), "must be one of voxel, nm")
    rejects(affinity("{offsets: 3}"), r"kwargs.offsets` must be a string or")


def test_channel_counts_must_match_the_offsets() -> None:
    rejects(
        affinity("{offsets: isotropic-9}", out=3),
        r"gives target 'affinity' 3 channels; it has 9 \(one per offset\)",
    )
    rejects(
        affinity("{offsets: nearest}", out=4, rows="[[0, 4, affinity, [0, 1]]]"),
        r"gives target 'affinity' 4 channels; it has 3",
    )


def test_offsets_must_fit_in_the_training_patch() -> None:
    rejects(affinity("{offsets: isotropic-12}", out=12), r"\[-27, 0, 0\] is as long as or longer")
    rejects(affinity("{offsets: [[-16, 0, 0]]}", out=1), "training patch")
    loads(affinity("{offsets: [[-15, 0, 0]]}", out=1))
    text = affinity("{offsets: [[-640, 0, 0]], unit: nm}", out=1, grid=GRID)
    rejects(text, r"\[-16, 0, 0\] is as long")
    loads(affinity("{offsets: [[-640, 0, 0]], unit: nm}", out=1))  # data grid: checked later


def test_an_affinity_target_needs_a_multi_task_config() -> None:
    rejects(affinity("{offsets: nearest}", rows="[]"), r"affinity target needs `model.multi_task")


def test_class_balanced_self_training_splits_at_one_half() -> None:
    base = "selftrain: {thresholds: class_balanced, t_hi: [0.4, 0.4], t_lo: [0.1, 0.1]}"
    rejects(base, r"t_hi` 0.4 at least 0.5")
    loads("selftrain: {thresholds: class_balanced, t_hi: [0.95, 0.9], t_lo: [0.05, 0.1]}")


def test_self_training_and_active_learning_need_a_foreground_channel() -> None:
    from volseg.models.heads import require_foreground

    cfg = loads(affinity("{offsets: nearest}"))
    with pytest.raises(VolsegError, match="volseg selftrain reads the foreground probability"):
        require_foreground(cfg.model, command="volseg selftrain")
    require_foreground(loads("").model, command="volseg active")  # the defaults: binary first
