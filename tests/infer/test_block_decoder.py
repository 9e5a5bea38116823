"""Block decoding: contour_distance without dropping seeds that the read region cuts."""

import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.data import make_targets
from volseg.data.synth import vesicles
from volseg.decode import contour_distance, decode
from volseg.errors import VolsegError
from volseg.infer.block_decoder import (
    _contour_distance,
    cut_faces,
    decode_block_maps,
    drop_small_uncut,
)

UNCUT = ((False, False),) * 3
X_LOW_CUT = ((False, False), (False, False), (True, False))
SPEC = [
    {"name": "binary"},
    {"name": "instance_boundary", "kwargs": {"edge_mode": "seg-all"}},
    {"name": "instance_edt"},
]


@pytest.fixture(name="two_balls", scope="module")
def two_balls_fixture():
    """Two balls touching along x; ball 1's seed core spans x = 10..18."""
    gt = ball_labels(shape=(24, 40, 48), centres=((12, 20, 14), (12, 20, 30)), radius=8.0)
    return gt, oracle_maps(gt)


def test_cut_faces_are_the_faces_inside_the_volume():
    read = (slice(0, 8), slice(4, 20), slice(10, 30))
    assert cut_faces(read, (8, 30, 30)) == ((False, False), (True, True), (True, False))


def test_drop_small_uncut_spares_seeds_on_cut_faces():
    seeds = np.zeros((4, 6, 6), dtype=np.uint32)
    seeds[0, 0, :2] = 1  # 2 voxels on the lower z face
    seeds[2, 2, 2] = 2  # 1 voxel inside
    seeds[1:3, 3:5, 5] = 3  # 4 voxels on the upper x face
    seeds[1:3, 1:4, 1:4] = np.where(seeds[1:3, 1:4, 1:4] == 0, 4, seeds[1:3, 1:4, 1:4])
    cut = ((True, False), (False, False), (False, True))
    out = drop_small_uncut(seeds.copy(), min_size=5, cut=cut)
    assert sorted(np.unique(out).tolist()) == [0, 1, 3, 4]
    out = drop_small_uncut(seeds.copy(), min_size=5, cut=UNCUT)
    assert sorted(np.unique(out).tolist()) == [0, 4]


def test_a_cut_seed_is_kept_where_a_plain_decode_merges(two_balls):
    gt, maps = two_balls
    whole = contour_distance(maps)
    assert whole.max() == 2
    for x0 in (17, 18):  # 30 voxels and 1 voxel of ball 1's seed remain: below 32
        crop, part = maps[:, :, :, x0:], whole[:, :, x0:]
        plain = decode(crop, "contour_distance", {})
        assert np.unique(plain[part == 1]).tolist() == np.unique(plain[part == 2]).tolist()
        kept = decode_block_maps(crop, "contour_distance", {}, cut=X_LOW_CUT)
        ball1, ball2 = np.unique(kept[part == 1]), np.unique(kept[part == 2])
        assert len(ball1) == len(ball2) == 1 and ball1[0] != ball2[0] and ball1[0] > 0


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"min_seed_size": 1, "connectivity": 26, "contour_ridge": True},
        {"min_instance_size": 100, "distance_threshold": (0.3, 0.1)},
        {"channels": (0, None, 2), "contour_threshold": None, "seed_connectivity": 6},
        {"binary_threshold": (0.8, None), "levels": 65536, "parallel": True},
    ],
)
def test_uncut_blocks_decode_exactly_like_contour_distance(params):
    _, gt, _ = vesicles(shape=(16, 64, 64), seed=4, density=0.08, touching=0.3)
    maps = make_targets(gt, (30, 8, 8), SPEC)
    expected = contour_distance(maps, **params)
    assert expected.max() > 5
    assert np.array_equal(_contour_distance(maps, params, UNCUT), expected)


def test_other_decoders_and_cc_mode_run_unchanged(two_balls):
    _, maps = two_balls
    crop = maps[:, :, :, 17:]
    for name, params in (("cc", {}), ("contour_distance", {"mode": "cc"})):
        expected = decode(crop, name, params)
        assert np.array_equal(decode_block_maps(crop, name, params, cut=X_LOW_CUT), expected)


def test_unknown_options_are_refused(two_balls):
    _, maps = two_balls
    with pytest.raises(VolsegError, match="has no option `min_seed`"):
        decode_block_maps(maps, "contour_distance", {"min_seed": 3}, cut=X_LOW_CUT)
