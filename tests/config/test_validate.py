"""Rules between keys: per-component key sets, losses, multi-task rows, TTA, decoders, tune."""

from __future__ import annotations

import pytest

from volseg.config import loads
from volseg.errors import VolsegError


def rejects(text: str, pattern: str, overrides: tuple[str, ...] = ()) -> None:
    with pytest.raises(VolsegError, match=pattern):
        loads(text, list(overrides), source="c.yaml")


def test_unused_key_rejected_naming_key_architecture_and_accepted_keys() -> None:
    with pytest.raises(VolsegError) as info:
        loads("model: {architecture: rsunet, num_res_units: 3}", source="c.yaml")
    message = str(info.value)
    assert message.startswith("c.yaml: `model.num_res_units` is not used by architecture rsunet")
    assert "num_2d_levels" in message and "filters" in message and "strides" in message


def test_config_key_table_matches_what_the_networks_read() -> None:
    """A key the config accepts for an architecture is one its builder really reads."""
    from volseg.config.schema_model import ARCHITECTURE_KEYS
    from volseg.models import USED_KEYS

    assert {a: set(k) for a, k in ARCHITECTURE_KEYS.items()} == {
        a: set(k) for a, k in USED_KEYS.items()
    }


def test_rsunet_strides_set_the_down_factors() -> None:
    from volseg.config import down_factors

    cfg = loads(
        "model: {architecture: rsunet, filters: [8, 16, 32], strides: [[1, 2, 2], 2],"
        " input_size: [8, 64, 64]}"
    )
    assert down_factors(cfg.model) == [(1, 2, 2), (2, 2, 2)]


@pytest.mark.parametrize(
    ("arch", "key", "value"),
    [
        ("rsunet", "mednext_size", "B"),
        ("monai_unet", "num_2d_levels", 1),
        ("mednext", "filters", [8, 16]),
        ("rsunet", "num_res_units", 3),
        ("attention_unet", "norm", "group"),
        ("monai_basic_unet3d", "num_res_units", 3),
    ],
)
def test_keys_the_architecture_ignores_are_errors(arch: str, key: str, value: object) -> None:
    extra = "filters: [8, 16, 32, 64, 128, 32], " if arch == "monai_basic_unet3d" else ""
    rejects(
        f"model: {{architecture: {arch}, {extra}{key}: {value}}}",
        rf"`model.{key}` is not used by architecture {arch}",
    )


def test_filters_default_per_architecture() -> None:
    assert list(loads("").model.filters) == [28, 36, 48, 64, 80]
    cfg = loads("model: {architecture: monai_basic_unet3d, input_size: [16, 64, 64]}")
    assert list(cfg.model.filters) == [32, 32, 64, 128, 256, 32]
    assert loads("model: {architecture: mednext}").model.filters is None


def test_rsunet_2d_takes_no_2d_levels() -> None:
    rejects(
        "model: {spatial_dims: 2, num_2d_levels: 1, input_size: [1, 64, 64]}",
        r"c.yaml: model.num_2d_levels must be 0 for a 2D network",
    )
    cfg = loads("model: {spatial_dims: 2, input_size: [1, 64, 64], kernel_size: 5}")
    assert cfg.model.spatial_dims == 2


def test_ignored_key_at_its_default_is_fine() -> None:
    cfg = loads("model: {architecture: rsunet, strides: null, mednext_size: S}")
    assert cfg.model.architecture == "rsunet"


def test_each_architecture_loads_with_its_own_keys() -> None:
    loads("model: {architecture: mednext, mednext_size: B, mednext_kernel_size: 5}")
    loads(
        "model: {architecture: monai_unet, filters: [8, 16, 32], strides: [2, 2], kernel_size: 5}"
    )
    loads("model: {architecture: attention_unet, filters: [8, 16, 32], strides: [[1, 2, 2], 2]}")
    loads("model: {architecture: monai_basic_unet3d, filters: [8, 8, 16, 32, 64, 8]}")
    loads("model: {architecture: rsunet, num_2d_levels: 2, deep_supervision: true}")
    loads("model: {architecture: monai_unet, deep_supervision: true}")


def test_loss_weights_length_mismatch() -> None:
    with pytest.raises(VolsegError) as info:
        loads("model: {loss_weights: [1.0, 1.0]}", source="c.yaml")
    assert str(info.value) == (
        "c.yaml: `model.loss_weights` has 2 entries but `model.loss_functions` has 5; "
        "give one weight per loss."
    )


def test_loss_kwargs_length_and_keys() -> None:
    rejects("model: {loss_kwargs: [{}, {}]}", r"`model.loss_kwargs` has 2 entries")
    rejects(
        "model: {loss_kwargs: [{smoth: 1e-5}, {}, {}, {}, {}]}",
        r"unknown key `model.loss_kwargs\[0\].smoth` for DiceLoss; did you mean "
        r"`model.loss_kwargs\[0\].smooth`\?",
    )
    rejects(
        "model: {loss_kwargs: [{}, {}, {}, {}, {tanh: 1}]}",
        r"`model.loss_kwargs\[4\].tanh` must be true or false, got 1\.",
    )


def test_loss_kwargs_empty_means_defaults() -> None:
    cfg = loads("model: {loss_kwargs: []}")
    assert list(cfg.model.loss_kwargs) == []


def test_unknown_loss_name() -> None:
    rejects(
        "model: {loss_functions: [DiceLos, MSELoss, MSELoss, MSELoss, MSELoss]}",
        r"`model.loss_functions\[0\]` must be one of .*; did you mean 'DiceLoss'\?",
    )


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        ("[[0, 4, binary, [0]]]", r"channel range 0:4 must lie within 0:3"),
        ("[[1, 1, binary, [0]]]", r"channel range 1:1 must lie within"),
        ("[[0, 1, label, [0]]]", r"target 'label' is not one of the label targets"),
        ("[[0, 1, binary, [7]]]", r"loss index 7 is out of range"),
        ("[[0, 1, binary]]", r"must be \[start_ch, end_ch, target_name, \[loss indices\]\]"),
        ("[[0, 1, binary, [0]], [0, 1, instance_edt, [4]]]", r"channels 0:1 overlap"),
        ("[[0, 2, binary, [0]]]", r"gives target 'binary' 2 channels; it has 1"),
        ("[[0, 1, binary, [0]], [1, 2, binary, [1]]]", r"\[1\]` repeats target 'binary'"),
        ("[[0, 1, binary, [0]], [2, 3, instance_edt, [4]]]", r"leaves output channel\(s\) 1 "),
    ],
)
def test_multi_task_config_rows(rows: str, pattern: str) -> None:
    rejects(f"model: {{multi_task_config: {rows}}}", pattern)


def test_out_channels_must_match_targets() -> None:
    rejects(
        "model: {out_channels: 2, multi_task_config: []}",
        r"`model.out_channels` is 2 but .* make 3 channel\(s\)",
    )


def test_input_size_divisibility_and_2d() -> None:
    rejects(
        "model: {input_size: [30, 128, 128]}",
        r"`model.input_size` \[30, 128, 128\] must be divisible by the total downsampling "
        r"\[16, 16, 16\]",
    )
    rejects(
        "model: {architecture: monai_unet, filters: [8, 16], spatial_dims: 2}",
        r"must start with 1 for a 2D network",
    )


def test_deep_supervision_weights() -> None:
    rejects("model: {deep_supervision_weights: []}", r"must have at least 1 entry")
    rejects("model: {deep_supervision_weights: [1.0, 0.0]}", r"\[1\]` must be > 0, got 0.0")
    rejects(
        "model: {deep_supervision: true, filters: [8, 16], deep_supervision_weights: [1, 1, 1]}",
        r"has 3 entries but this rsunet has 2 output scales",
    )


def test_kernel_size_and_strides_shapes() -> None:
    base = "model: {architecture: monai_unet, filters: [8, 16, 32], "
    rejects(base + "kernel_size: 4}", r"model.kernel_size must be odd on every axis")
    rejects(base + "strides: [2]}", r"model.strides must list one down factor per level \(2")
    rejects(base + "strides: [2, [1, 2]]}", r"model.strides must be an integer or a list of 3")


def test_target_kwargs_are_checked() -> None:
    rejects(
        "data: {label_transform: {targets: [{name: binary}, {name: instance_boundary, "
        "kwargs: {mode: 2d}}, {name: instance_edt}]}}",
        r"unknown key `data.label_transform.targets\[1\].kwargs.mode` for instance_boundary; "
        r"did you mean `data.label_transform.targets\[1\].kwargs.mode_2d`\?",
    )
    rejects(
        "data: {label_transform: {targets: [{name: binary, kwargs: {x: 1}}]}}",
        r"binary takes no kwargs",
    )
    rejects(
        "data: {label_transform: {targets: [{name: binary}, {name: binary}]}}",
        r"lists 'binary' twice",
    )


def test_data_rules() -> None:
    rejects("data: {train_image: [a.h5, b.h5], train_label: a.h5}", r"has 1 path\(s\) but")
    rejects("data: {val_region: 1.5}", r"`data.val_region` must be null, a fraction")
    rejects("data: {val_region: [5, 2]}", r"`data.val_region` must be null")
    rejects("data: {val_region: 0.1, val_image: v.h5}", r"either `data.val_image` or")
    rejects("data: {patch_size: [16, 64, 64]}", r"must equal `model.input_size`")
    rejects(
        "data: {image_transform: {clip_percentile_low: 0.9, clip_percentile_high: 0.1}}",
        r"clip_percentile_low` must be below",
    )
    rejects("data: {augmentation: {rotate90: {spatial_axes: [1, 1]}}}", r"two different axes")
    rejects("data: {augmentation: {flip: {prob: 2}}}", r"`data.augmentation.flip.prob` must be")
    rejects("data: {augmentation: {flip: {spatial_axis: [3]}}}", r"must be one of 0, 1, 2")


def test_optimizer_and_scheduler_key_sets() -> None:
    rejects(
        "optimization: {optimizer: {name: SGD, betas: [0.5, 0.9]}}",
        r"`optimization.optimizer.betas` is not used by SGD, which accepts momentum",
    )
    rejects(
        "optimization: {scheduler: {name: step, warmup_epochs: 3}}",
        r"`optimization.scheduler.warmup_epochs` is not used by step",
    )
    rejects(
        "optimization: {max_epochs: 5, scheduler: {warmup_epochs: 5}}",
        r"warmup_epochs` \(5\) must be below `optimization.max_epochs` \(5\)",
    )
    rejects("optimization: {scheduler: {min_lr: 0.1}}", r"min_lr` \(0.1\) must be below")
    rejects("optimization: {precision: 64}", r"must be one of 32, 16-mixed, bf16-mixed")


def test_precision_int_32_reads_as_string() -> None:
    assert loads("optimization: {precision: 32}").optimization.precision == "32"


def test_tta_axes_must_be_spatial() -> None:
    with pytest.raises(VolsegError) as info:
        loads("inference: {test_time_augmentation: {flip_axes: [[0], [1, 3]]}}", source="c.yaml")
    assert str(info.value) == (
        "c.yaml: `inference.test_time_augmentation.flip_axes[1]` must hold spatial axes 0..2 "
        "(z, y, x) only, got [1, 3]; the channel axis is never flipped."
    )
    rejects("inference: {test_time_augmentation: {flip_axes: [[-1]]}}", r"spatial axes 0..2")
    rejects("inference: {test_time_augmentation: {flip_axes: [[]]}}", r"non-empty list")
    rejects("inference: {test_time_augmentation: {flip_axes: [[1, 1]]}}", r"distinct")
    rejects(
        "inference: {test_time_augmentation: {enabled: true, flip_axes: []}}",
        r"nothing to augment",
    )


def test_sliding_window() -> None:
    rejects("inference: {sliding_window: {overlap: 1.0}}", r"must be in \[0, 1\), got 1.0")
    cfg = loads("model: {input_size: [16, 64, 64]}")
    assert list(cfg.inference.sliding_window.window_size) == [16, 64, 64]
    assert list(cfg.data.patch_size) == [16, 64, 64]
    assert list(cfg.model.output_size) == [16, 64, 64]


def test_unknown_decoder_kwarg_is_an_error() -> None:
    with pytest.raises(VolsegError) as info:
        loads("test: {decoding: [{name: watershed, kwargs: {thresold: 0.5}}]}", source="c.yaml")
    assert str(info.value) == (
        "c.yaml: unknown key `test.decoding[0].kwargs.thresold` for watershed; "
        "did you mean `test.decoding[0].kwargs.threshold`?"
    )


def test_decoder_probabilities_and_pairs() -> None:
    dec = "test: {decoding: [{name: contour_distance, kwargs: {%s}}]}"
    rejects(
        dec % "contour_threshold: [0.8, 1.1]", r"kwargs.contour_threshold\[1\]` must be between 0"
    )
    rejects(dec % "binary_threshold: [0.5]", r"must be null or a list of 2 nulls or numbers")
    rejects(dec % "distance_threshold: [0.5, -2]", r"must be between -1 and 1, got -2")
    rejects(dec % "connectivity: 4", r"must be one of 6, 18, 26")
    rejects(dec % "channels: [0, 1, 3]", r"must index the 3 output channels")
    rejects("test: {decoding: [{name: cc, kwargs: {threshold: -0.1}}]}", r"between 0 and 1")
    rejects("test: {decoding: [{name: waterz}]}", r"must be one of contour_distance")
    cfg = loads(dec % "contour_threshold: [0.8, null], binary_threshold: null, min_seed_size: 3")
    assert list(cfg.test.decoding[0].kwargs.contour_threshold) == [0.8, None]


def test_evaluation_metrics() -> None:
    rejects("test: {evaluation: {metrics: [adapted_rnd]}}", r"did you mean 'adapted_rand'")
    rejects("test: {evaluation: {iou_thresholds: [0.0]}}", r"must be in \(0, 1\]")


def test_tune_parameters() -> None:
    ok = loads(
        "tune: {decoder: watershed, parameters: {h: [0.0, 0.1], threshold: "
        "{low: 0.2, high: 0.6, num: 5}, min_seed_size: {low: 2, high: 10, num: 3}}}"
    )
    assert dict(ok.tune.parameters.threshold) == {"low": 0.2, "high": 0.6, "num": 5}
    assert ok.tune.parameters.min_seed_size.low == 2
    rejects("tune: {decoder: watershed, parameters: {tresh: [0.1]}}", r"unknown key")
    rejects("tune: {parameters: {binary_threshold.2: [0.1]}}", r"has elements 0..1")
    rejects("tune: {parameters: {min_seed_size.0: [1]}}", r"is not a list")
    rejects("tune: {parameters: {binary_threshold.0: [1.5]}}", r"must be between 0 and 1")
    rejects("tune: {parameters: {min_seed_size: []}}", r"at least one value")
    rejects("tune: {parameters: {min_seed_size: {low: 1, hi: 3, num: 2}}}", r"did you mean")
    rejects("tune: {parameters: {min_seed_size: {low: 5, high: 3, num: 2}}}", r"low 5 above")
    rejects("tune: {parameters: {mode: {low: 0, high: 1, num: 2}}}", r"is for numbers")
    rejects("tune: {parameters: {min_seed_size: 3}}", r"must be a list of values or")
