"""Augmentation presets and the per-target tables."""

from __future__ import annotations

from volseg.config import (
    AUGMENTATIONS,
    TARGET_KWARGS,
    enabled_augmentations,
    loads,
    target_channels,
)


def enabled(text: str) -> list[str]:
    return enabled_augmentations(loads(text).data.augmentation)


def test_presets_decide_unset_transforms() -> None:
    assert enabled("data: {augmentation: {preset: none}}") == []
    assert enabled("data: {augmentation: {preset: some}}") == ["flip", "rotate90", "intensity"]
    assert enabled("data: {augmentation: {preset: all}}") == list(AUGMENTATIONS)


def test_explicit_enabled_wins_over_preset() -> None:
    text = "data: {augmentation: {preset: some, flip: {enabled: false}, cutout: {enabled: true}}}"
    assert enabled(text) == ["rotate90", "intensity", "cutout"]
    text = "data: {augmentation: {preset: all, elastic: {enabled: false}}}"
    assert "elastic" not in enabled(text) and len(enabled(text)) == len(AUGMENTATIONS) - 1


def test_target_tables_agree() -> None:
    assert all(target_channels(name) == 1 for name in TARGET_KWARGS if name != "affinity")
    assert target_channels("affinity", {"offsets": "isotropic-12"}) == 12
