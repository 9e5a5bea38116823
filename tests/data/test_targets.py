"""make_targets: spec handling, channel order, ignore mask and input validation."""

import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy import ndimage

from volseg.data import make_targets
from volseg.data.targets import TARGETS, parse_spec, target_kwargs
from volseg.errors import VolsegError

ANISO = (30.0, 8.0, 8.0)
ALL = [
    {"name": "binary"},
    {"name": "instance_boundary", "kwargs": {"thickness": 1, "edge_mode": "seg-all"}},
    {"name": "instance_edt", "kwargs": {"mode": "3d"}},
    {"name": "semantic_edt", "kwargs": {"alpha_fore": 40.0, "alpha_back": 200.0}},
]


def cubes():
    lab = np.zeros((6, 10, 12), dtype=np.uint32)
    lab[1:5, 2:8, 1:6] = 4
    lab[1:5, 2:8, 6:11] = 9
    lab[0:2, 0:3, 9:12] = 2  # touches the border and cube 9
    return lab


def test_channels_follow_the_spec_and_match_direct_computation():
    lab = cubes()
    maps = make_targets(lab, ANISO, ALL)
    assert maps.dtype == np.float32 and maps.shape == (4, *lab.shape)
    np.testing.assert_array_equal(maps[0], lab > 0)
    # boundary, checked independently: a foreground voxel whose 3x3x3 box holds another label
    lo = ndimage.minimum_filter(lab, size=3, mode="nearest")
    hi = ndimage.maximum_filter(lab, size=3, mode="nearest")
    np.testing.assert_array_equal(maps[1], (lab > 0) & (lo != hi))
    assert maps[2][lab == 0].tolist() == [-1.0] * int((lab == 0).sum())
    for i in (2, 4, 9):
        d = ndimage.distance_transform_edt(lab == i, sampling=ANISO)
        np.testing.assert_allclose(maps[2][lab == i], d[lab == i] / d.max(), atol=1e-5)
    fg = lab > 0
    d_in = ndimage.distance_transform_edt(fg, sampling=ANISO)
    d_out = ndimage.distance_transform_edt(~fg, sampling=ANISO)
    want = np.where(fg, np.tanh(d_in / 40.0), -np.tanh(d_out / 200.0))
    np.testing.assert_allclose(maps[3], want, atol=1e-6)
    # reversed spec -> reversed channels
    np.testing.assert_array_equal(make_targets(lab, ANISO, ALL[::-1]), maps[::-1])


def test_ids_do_not_matter():
    lab = cubes()
    big = np.where(lab > 0, lab.astype(np.uint64) * 2**40 + 3, 0).astype(np.uint64)
    signed = lab.astype(np.int32)
    want = make_targets(lab, ANISO, ALL)
    np.testing.assert_array_equal(make_targets(big, ANISO, ALL), want)
    np.testing.assert_array_equal(make_targets(signed, ANISO, ALL), want)


def test_mask_sets_every_channel_to_minus_one_and_leaves_the_rest():
    lab = cubes()
    mask = np.ones(lab.shape, dtype=bool)
    mask[3:, :, :4] = False
    plain = make_targets(lab, ANISO, ALL)
    masked = make_targets(lab, ANISO, ALL, mask=mask)
    assert np.all(masked[:, ~mask] == -1.0)
    np.testing.assert_array_equal(masked[:, mask], plain[:, mask])
    np.testing.assert_array_equal(make_targets(lab, ANISO, ALL, mask=mask.astype(np.uint8)), masked)


def test_spec_forms():
    lab = cubes()
    want = make_targets(lab, ANISO, [{"name": "binary"}, {"name": "instance_edt"}])
    np.testing.assert_array_equal(make_targets(lab, ANISO, ["binary", "instance_edt"]), want)
    cfg = OmegaConf.create(
        {"targets": [{"name": "binary", "kwargs": {}}, {"name": "instance_edt", "kwargs": None}]}
    )
    np.testing.assert_array_equal(make_targets(lab, ANISO, cfg.targets), want)
    assert parse_spec([{"name": "instance_boundary", "kwargs": {"thickness": 2}}]) == [
        ("instance_boundary", {"thickness": 2})
    ]


def test_target_kwargs_lists_defaults():
    assert set(TARGETS) == {
        "binary", "instance_boundary", "instance_edt", "semantic_edt", "affinity"
    }  # fmt: skip
    assert target_kwargs("binary") == {}
    assert target_kwargs("affinity") == {"offsets": "nearest", "unit": "voxel"}
    assert target_kwargs("instance_boundary") == {
        "thickness": 1,
        "edge_mode": "seg-all",
        "mode_2d": False,
        "connectivity": 26,
    }
    assert set(target_kwargs("instance_edt")) == {"mode", "quantize", "levels"}


def test_scalar_voxel_size_means_isotropic():
    lab = cubes()
    np.testing.assert_array_equal(make_targets(lab, 4, ALL), make_targets(lab, (4, 4, 4), ALL))


@pytest.mark.parametrize(
    ("labels", "voxel_size", "spec", "match"),
    [
        (cubes().astype(np.float32), ANISO, ["binary"], "labels must be an integer array"),
        (cubes() > 0, ANISO, ["binary"], "got dtype bool"),
        (cubes()[0], ANISO, ["binary"], r"\(z, y, x\) volume"),
        (cubes().astype(np.int16) - 1, ANISO, ["binary"], "labels must be >= 0, found -1"),
        (cubes(), (30, 8), ["binary"], "voxel_size must be three numbers"),
        (cubes(), (30, 0, 8), ["binary"], "voxel_size must be three positive"),
        (cubes(), (30, float("nan"), 8), ["binary"], "voxel_size must be three positive"),
        (cubes(), "abc", ["binary"], "voxel_size must be three numbers"),
        (cubes(), ANISO, ["edt"], "unknown target 'edt' .*valid targets: binary, instance_bo"),
        (cubes(), ANISO, [{"nam": "binary"}], r"unknown key\(s\) \['nam'\]"),
        (cubes(), ANISO, [{"kwargs": {}}], "unknown target None"),
        (cubes(), ANISO, [3], "entry 0 must be a mapping"),
        (cubes(), ANISO, [], "target spec is empty"),
        (cubes(), ANISO, "binary", "must be a list"),
        (cubes(), ANISO, {"name": "binary"}, "must be a list"),
        (
            cubes(),
            ANISO,
            [{"name": "instance_boundary", "kwargs": {"thikness": 2}}],
            "does not accept thikness; accepted kwargs: thickness, edge_mode, mode_2d",
        ),
        (cubes(), ANISO, [{"name": "binary", "kwargs": {"x": 1}}], "accepted kwargs: none"),
        (cubes(), ANISO, [{"name": "binary", "kwargs": [1]}], "kwargs of target 'binary' must"),
        (
            cubes(),
            ANISO,
            [{"name": "instance_boundary", "kwargs": {"thickness": 0}}],
            "thickness must be >= 1",
        ),
        (
            cubes(),
            ANISO,
            [{"name": "instance_boundary", "kwargs": {"mode_2d": "yes"}}],
            "mode_2d must be true or false",
        ),
    ],
)
def test_bad_input_is_one_clear_error(labels, voxel_size, spec, match):
    with pytest.raises(VolsegError, match=match):
        make_targets(labels, voxel_size, spec)


def test_bad_mask():
    lab = cubes()
    with pytest.raises(VolsegError, match=r"mask shape \(6, 10\) does not match"):
        make_targets(lab, ANISO, ["binary"], mask=np.ones((6, 10), bool))
    with pytest.raises(VolsegError, match="mask must be boolean"):
        make_targets(lab, ANISO, ["binary"], mask=np.ones(lab.shape, np.float32))


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_config_table_lists_exactly_each_target_s_arguments(name):
    from volseg.config.schema_data import TARGET_KWARGS

    assert set(TARGET_KWARGS) == set(TARGETS)
    assert set(TARGET_KWARGS[name]) == set(target_kwargs(name))


def test_every_target_argument_in_a_config_reaches_the_target():
    from volseg.config import loads

    cfg = loads(
        "model: {out_channels: 2, loss_functions: [DiceLoss, SmoothL1Loss], loss_weights: [1, 1],"
        " loss_kwargs: [],"
        " multi_task_config: [[0, 1, binary, [0]], [1, 2, instance_edt, [1]]]}\n"
        "data: {label_transform: {targets: [{name: binary}, "
        "{name: instance_edt, kwargs: {quantize: true, levels: 4}}]}}"
    )
    labels = np.zeros((4, 12, 12), dtype=np.uint32)
    labels[1:3, 2:10, 2:10] = 1
    spec = [{"name": t.name, "kwargs": dict(t.kwargs)} for t in cfg.data.label_transform.targets]
    maps = make_targets(labels, (10.0, 10.0, 10.0), spec)
    values = np.unique(maps[1][labels > 0])
    assert set(np.round(values * 4, 6)) <= {1.0, 2.0, 3.0, 4.0}  # quantised to quarters
