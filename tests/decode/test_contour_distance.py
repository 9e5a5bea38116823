import numpy as np
import pytest
from scipy import ndimage
from skimage.segmentation import watershed as sk_watershed

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.decode import contour_distance
from volseg.decode.contour_distance import flood_height, split_channels
from volseg.errors import VolsegError
from volseg.metrics import adapted_rand


def reference_decode(maps, b=(0.9, 0.85), c=(0.8, None), d=(0.5, 0.0), min_seed=0, min_inst=0):
    """Slow reference: scipy labelling, explicit loops, skimage watershed on the same heights."""
    binary, contour, dist = maps
    seed = (binary > b[0]) & (contour < c[0]) & (dist > d[0])
    fg = (binary > b[1]) & (dist > d[1])
    if c[1] is not None:
        fg &= contour < c[1]
    seeds, n = ndimage.label(seed, structure=np.ones((3, 3, 3)))
    for i in range(1, n + 1):
        if (seeds == i).sum() < min_seed:
            seeds[seeds == i] = 0
    height = ((1.0 - np.clip(dist, 0, 1)) * 16383 + 0.5).astype(np.uint16)
    out = sk_watershed(height, seeds, mask=fg, connectivity=1)
    for i in np.unique(out[out > 0]):
        if (out == i).sum() < min_inst:
            out[out == i] = 0
    return out


def test_oracle_maps_decode_to_the_two_balls(balls):
    labels = contour_distance(oracle_maps(balls), min_seed_size=4)
    assert labels.dtype == np.uint32
    assert sorted(np.unique(labels)) == [0, 1, 2]
    are, _, _ = adapted_rand(labels, balls)
    assert are < 0.01


def test_matches_slow_reference_on_noisy_maps():
    rng = np.random.default_rng(0)
    labels = ball_labels(shape=(20, 48, 48), centres=((10, 14, 14), (10, 30, 30), (6, 36, 12)))
    maps = oracle_maps(labels)
    maps = np.clip(maps + rng.normal(0, 0.08, maps.shape).astype(np.float32), -1, 1)
    maps[:2] = np.clip(maps[:2], 0, 1)
    ours = contour_distance(maps, min_seed_size=3, min_instance_size=20)
    ref = reference_decode(maps, min_seed=3, min_inst=20)
    assert ours.max() == len(np.unique(ref[ref > 0]))
    # identical partitions up to ids (plateau order is the only freedom)
    are, _, _ = adapted_rand(ours, ref, ignore_labels=())
    assert are <= 1e-3
    assert ((ours > 0) == (ref > 0)).all()


def test_ids_are_sequential_and_small_instances_removed(balls):
    maps = oracle_maps(balls)
    maps[0, 1:3, 1:3, 1:3] = 1.0  # a tiny isolated foreground speck with a seed
    maps[2, 1:3, 1:3, 1:3] = 1.0
    kept = contour_distance(maps, min_seed_size=1, min_instance_size=0)
    dropped = contour_distance(maps, min_seed_size=1, min_instance_size=20)
    assert kept.max() == 3 and dropped.max() == 2
    assert sorted(np.unique(dropped)) == [0, 1, 2]


def test_none_switches_a_term_off(balls):
    maps = oracle_maps(balls)
    maps[1] = 1.0  # a contour map that would veto every seed
    with_contour = contour_distance(maps, min_seed_size=1)
    without = contour_distance(maps, contour_threshold=None, min_seed_size=1)
    assert with_contour.max() == 0
    assert without.max() == 2


def test_without_distance_channel_floods_inverted_binary(balls):
    maps = oracle_maps(balls)[:2]
    labels = contour_distance(
        maps, channels=(0, 1, None), distance_threshold=None, contour_threshold=(0.5, None)
    )
    assert labels.max() == 2
    ch = split_channels(maps, (0, 1, None))
    assert flood_height(ch).dtype == np.uint16
    assert flood_height(ch, levels=256).dtype == np.uint8


def test_cc_mode(balls):
    maps = oracle_maps(balls)
    labels = contour_distance(maps, mode="cc", contour_threshold=(0.5, 0.5))
    assert labels.max() == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"binary_threshold": (1.5, 0.5)}, "lie in"),
        ({"contour_threshold": (0.5,)}, "pair"),
        ({"distance_threshold": (-2, 0)}, "lie in"),
        ({"min_seed_size": -1}, ">= 0"),
        ({"mode": "magic"}, "mode"),
        ({"levels": 1}, "levels"),
        ({"channels": (0, 1, 5)}, "out of range"),
    ],
)
def test_bad_options(balls, kwargs, message):
    with pytest.raises(VolsegError, match=message):
        contour_distance(oracle_maps(balls), **kwargs)


def test_bad_maps(balls):
    maps = oracle_maps(balls)
    with pytest.raises(VolsegError, match="channel-first"):
        contour_distance(maps[0, 0])
    with pytest.raises(VolsegError, match="float"):
        contour_distance((maps * 100).astype(np.int16))
    maps[0, 0, 0, 0] = np.nan
    with pytest.raises(VolsegError, match="NaN"):
        contour_distance(maps)
