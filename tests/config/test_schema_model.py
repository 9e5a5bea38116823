"""The model tables and ``down_factors`` that the models package reuses."""

from __future__ import annotations

import dataclasses

import pytest

from volseg.config import ARCHITECTURE_KEYS, ARCHITECTURES, COMMON_MODEL_KEYS, down_factors, loads
from volseg.config.schema_model import ModelConfig


def test_every_model_key_is_common_or_architecture_specific() -> None:
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    specific = set().union(*ARCHITECTURE_KEYS.values())
    assert COMMON_MODEL_KEYS | specific == fields
    assert not COMMON_MODEL_KEYS & specific
    assert set(ARCHITECTURE_KEYS) == set(ARCHITECTURES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # rsunet: the first num_2d_levels transitions pool in-plane only
        (
            "model: {filters: [8, 16, 32, 64], num_2d_levels: 2, input_size: [8, 64, 64]}",
            [(1, 2, 2), (1, 2, 2), (2, 2, 2)],
        ),
        ("model: {filters: [8, 16], input_size: [2, 2, 2]}", [(2, 2, 2)]),
        # monai_unet: explicit strides, ints or triples; a 2D network never pools z
        (
            "model: {architecture: monai_unet, filters: [8, 16, 32], strides: [[1, 2, 2], 3],"
            " input_size: [3, 12, 12]}",
            [(1, 2, 2), (3, 3, 3)],
        ),
        (
            "model: {architecture: attention_unet, filters: [8, 16, 32], spatial_dims: 2,"
            " input_size: [1, 16, 16]}",
            [(1, 2, 2), (1, 2, 2)],
        ),
        ("model: {architecture: mednext}", [(2, 2, 2)] * 4),
    ],
)
def test_down_factors(text: str, expected: list[tuple[int, int, int]]) -> None:
    assert down_factors(loads(text).model) == expected
