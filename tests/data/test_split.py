"""``make_split``: held-out ranges, the half-patch gap, reuse, and bad input."""

import json
import math

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.data.pipeline_common import config, make_volume, write_h5
from volseg.data.split import Region, Split, make_split, split_regions
from volseg.errors import VolsegError


@pytest.fixture
def vol(tmp_path):
    raw, labels, mask = make_volume((24, 32, 32))
    write_h5(tmp_path / "a.h5", raw, labels, mask)
    return raw


def test_default_holds_out_last_fifth_with_half_patch_gap(tmp_path, vol):
    split = make_split(config(tmp_path, ["a.h5"], patch=(4, 16, 16)))
    assert split.val == [Region(0, (19, 24), (0, 32), (0, 32))]  # round(0.2 * 24) = 5 slices
    assert split.train == [Region(0, (0, 17), (0, 32), (0, 32))]  # gap ceil(4 / 2) = 2
    v = split.volumes[0]
    assert v["shape"] == [24, 32, 32] and v["voxel_size"] == [8.0, 8.0, 8.0]
    assert v["image"].endswith("a.h5:raw") and v["label"].endswith("a.h5:labels")
    assert v["mask"] is None and v["role"] == "train" and v["gap"] == 2
    # statistics: the whole (small) image is the sample
    assert v["stats"]["low"] == vol.min() and v["stats"]["high"] == vol.max()
    assert math.isclose(v["stats"]["mean"], vol.mean()) and math.isclose(
        v["stats"]["std"], vol.std()
    )


def test_z_range_in_the_middle_leaves_two_training_pieces(tmp_path, vol):
    split = make_split(config(tmp_path, ["a.h5"], patch=(6, 16, 16), val=[9, 13]))
    assert split.val == [Region(0, (9, 13), (0, 32), (0, 32))]
    assert [r.z for r in split.train] == [(0, 6), (16, 24)]


def test_fraction_and_resolution(tmp_path, vol):
    # 16 nm patches of 2 x 8 x 8 cover 4 x 16 x 16 data voxels: gap 2
    cfg = config(
        tmp_path,
        ["a.h5"],
        patch=(2, 8, 8),
        val=0.25,
        overrides=["data.train_resolution=[16,16,16]"],
    )
    split = make_split(cfg)
    assert split.val[0].z == (18, 24) and split.train[0].z == (0, 16)


def test_separate_validation_volumes(tmp_path, vol):
    raw, labels, _ = make_volume((10, 20, 24), seed=1)
    write_h5(tmp_path / "b.h5", raw, labels)
    cfg = config(
        tmp_path,
        ["a.h5"],
        overrides=[
            f"data.val_image=[{tmp_path}/b.h5:raw]",
            f"data.val_label=[{tmp_path}/b.h5:labels]",
        ],
    )
    split = make_split(cfg)
    assert split.train == [Region(0, (0, 24), (0, 32), (0, 32))]
    assert split.val == [Region(1, (0, 10), (0, 20), (0, 24))]
    assert [v["role"] for v in split.volumes] == ["train", "val"]


def test_json_round_trip_and_verbatim_reuse(tmp_path, vol):
    cfg = config(tmp_path, ["a.h5"])
    split = make_split(cfg)
    path = tmp_path / "split.json"
    split.to_json(path)
    back = Split.from_json(path)
    assert back == split
    data = json.loads(path.read_text())
    data["train"][0]["z"] = [0, 10]  # someone's hand-made split: kept as it is
    path.write_text(json.dumps(data))
    reused = make_split(cfg, reuse=path)
    assert reused.train == [Region(0, (0, 10), (0, 32), (0, 32))]
    assert reused.val == split.val


def test_incompatible_reuse_is_an_error(tmp_path, vol):
    make_split(config(tmp_path, ["a.h5"])).to_json(tmp_path / "split.json")
    raw, labels, _ = make_volume((20, 32, 32))
    write_h5(tmp_path / "a.h5", raw, labels)
    with pytest.raises(VolsegError, match=r"does not match the config: its volume shapes"):
        make_split(config(tmp_path, ["a.h5"]), reuse=tmp_path / "split.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(VolsegError, match="not a volseg split.json"):
        make_split(config(tmp_path, ["a.h5"]), reuse=tmp_path / "bad.json")


def describe(depth, shape_yx=(64, 64)):
    return [
        {"shape": [depth, *shape_yx], "voxel_size": [8.0, 8.0, 8.0], "role": "train", "image": "x"}
    ]


def data_section(val, patch_z, pad_z=0):
    return {
        "val_region": val,
        "train_resolution": None,
        "patch_size": [patch_z, 16, 16],
        "pad_size": [pad_z, 0, 0],
    }


@settings(max_examples=80, deadline=None)
@given(
    depth=st.integers(8, 120),
    patch_z=st.integers(1, 12),
    pad_z=st.integers(0, 4),
    a=st.floats(0.0, 1.0),
    b=st.floats(0.0, 1.0),
)
def test_training_regions_never_come_near_validation(depth, patch_z, pad_z, a, b):
    """Property: training ranges are inside the volume and at least ceil(patch/2) slices away
    from the held-out range, whatever range is held out."""
    z0, z1 = sorted((int(a * depth), int(b * depth)))
    z1 = max(z1, z0 + 1)
    if z1 > depth:
        z0, z1 = depth - 1, depth
    try:
        train, val = split_regions(describe(depth), data_section([z0, z1], patch_z, pad_z))
    except VolsegError as exc:
        assert "no z-range is left" in str(exc)
        return
    gap = math.ceil(patch_z / 2)
    assert val == [Region(0, (z0, z1), (0, 64), (0, 64))]
    for r in train:
        assert 0 <= r.z[0] < r.z[1] <= depth
        assert r.z[1] <= z0 - gap or r.z[0] >= z1 + gap
        assert r.shape[0] + 2 * pad_z >= patch_z


def test_patch_larger_than_volume(tmp_path, vol):
    with pytest.raises(VolsegError, match=r"patch \(48 data voxels in y\) is larger"):
        make_split(config(tmp_path, ["a.h5"], patch=(4, 48, 16)))
    # padding makes room: 32 + 2 * 8 = 48
    make_split(config(tmp_path, ["a.h5"], patch=(4, 48, 16), overrides=["data.pad_size=[0,8,0]"]))


def test_held_out_range_errors(tmp_path, vol):
    with pytest.raises(VolsegError, match=r"reaches past the 24 z-slices"):
        make_split(config(tmp_path, ["a.h5"], val=[20, 30]))
    with pytest.raises(VolsegError, match=r"no z-range is left that holds a patch of 16"):
        make_split(config(tmp_path, ["a.h5"], patch=(16, 16, 16), val=[6, 12]))


@pytest.mark.parametrize(
    ("labels", "raw", "message"),
    [
        (
            np.zeros((24, 32, 30), np.uint32),
            None,
            r"image \(.*a.h5:raw\) has shape \(24, 32, 32\) but labels",
        ),
        (np.zeros((24, 32, 32), np.float32), None, "labels must be integers, got float32"),
        (None, np.full((24, 32, 32), np.nan, np.float32), "holds .* NaN"),
    ],
)
def test_bad_volumes(tmp_path, labels, raw, message):
    raw0, labels0, _ = make_volume((24, 32, 32))
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["raw"] = raw0 if raw is None else raw
        f["labels"] = labels0 if labels is None else labels
    with pytest.raises(VolsegError, match=message):
        make_split(config(tmp_path, ["a.h5"]))


def test_missing_labels_and_float_mask(tmp_path, vol):
    cfg = config(tmp_path, ["a.h5"], overrides=["data.train_label=[]"])
    with pytest.raises(VolsegError, match="one label volume per training image"):
        make_split(cfg)
    with h5py.File(tmp_path / "a.h5", "a") as f:
        del f["mask"]
        f["mask"] = np.ones((24, 32, 32), np.float32)
    with pytest.raises(VolsegError, match="mask .* must be boolean or integer"):
        make_split(config(tmp_path, ["a.h5"], mask=True))


def test_box_is_held_out_apart_in_y_and_x(tmp_path, vol):
    """A box val_region: training covers the rest of the volume, half a patch from the box."""
    box = [[12, 24], [0, 32], [16, 32]]
    split = make_split(config(tmp_path, ["a.h5"], patch=(4, 8, 8), val=box))
    assert split.val == [Region(0, (12, 24), (0, 32), (16, 32))]
    assert split.volumes[0]["gap"] == [2, 4, 4]
    # z before the box (gap 2), then beside it in x inside its grown z-band (gap 4)
    assert split.train == [
        Region(0, (0, 10), (0, 32), (0, 32)),
        Region(0, (10, 24), (0, 32), (0, 12)),
    ]
    again = Split.from_json(_stored(tmp_path, split))
    assert again.val == split.val and again.train == split.train


def _stored(tmp_path, split):
    path = tmp_path / "split.json"
    split.to_json(path)
    return path


@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(4, 40), st.integers(4, 40), st.integers(4, 40)),
    patch=st.tuples(st.integers(1, 8), st.integers(1, 8), st.integers(1, 8)),
    corners=st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
)
def test_box_complement_covers_the_rest_exactly(shape, patch, corners):
    """Property: the pieces are disjoint, inside the volume, never within half a patch of the
    box, and together with the grown box they cover every voxel exactly once."""
    from volseg.data.split import box_complement

    box = []
    for axis in range(3):
        a, b = sorted(int(c * shape[axis]) for c in corners[2 * axis : 2 * axis + 2])
        b = min(max(b, a + 1), shape[axis])
        a = min(a, b - 1)
        box.append((a, b))
    gaps = [math.ceil(p / 2) for p in patch]
    cover = np.zeros(shape, np.int32)
    for piece in box_complement(tuple(box), shape, gaps):
        sl = tuple(slice(a, b) for a, b in piece)
        assert all(0 <= a < b <= n for (a, b), n in zip(piece, shape, strict=True))
        cover[sl] += 1
    grown = tuple(slice(max(0, a - g), b + g) for (a, b), g in zip(box, gaps, strict=True))
    assert (cover[grown] == 0).all()
    cover[grown] += 1
    assert (cover == 1).all()


def test_box_errors(tmp_path, vol):
    with pytest.raises(VolsegError, match=r"reaches x 40, past the 32 voxels"):
        make_split(config(tmp_path, ["a.h5"], val=[[0, 4], [0, 8], [0, 40]]))
    with pytest.raises(VolsegError, match=r"no region is left that holds a patch"):
        make_split(config(tmp_path, ["a.h5"], patch=(24, 32, 32), val=[[0, 4], [0, 8], [0, 8]]))
    with pytest.raises(VolsegError, match=r"or a box \[\[z0, z1\]"):
        make_split(config(tmp_path, ["a.h5"], val=[[0, 4], [8, 2], [0, 8]]))
