"""Voxel-wise pieces of the seeded decoders, and the flood from seeds plus neighbours' answers."""

import numpy as np
import pytest

from tests.decode.oracle import ball_labels, oracle_maps
from volseg.decode import contour_distance
from volseg.decode._levels import flood_levels
from volseg.decode.contour_distance import make_seeds
from volseg.decode.registry import watershed_maps
from volseg.decode.watershed import watershed
from volseg.errors import VolsegError
from volseg.geometry import Box
from volseg.infer.block_flood import pieces, ring, ring_flood, seeded_spec


@pytest.fixture(name="maps", scope="module")
def maps_fixture():
    """Three balls in a row, touching (ids 1, 2, 3)."""
    labels = ball_labels(shape=(20, 24, 60), centres=((10, 12, 10), (10, 12, 29), (10, 12, 48)),
                         radius=9.5)  # fmt: skip
    return oracle_maps(labels)


def whole_flood(maps, spec):
    p = pieces(maps, spec)
    seeds = make_seeds(p.seed_mask, min_seed_size=spec.min_seed_size,
                       connectivity=spec.seed_connectivity)  # fmt: skip
    labels = watershed(p.height, seeds, mask=p.foreground, connectivity=spec.connectivity)
    levels = flood_levels(p.height, seeds > 0, p.foreground, connectivity=spec.connectivity)
    return p, seeds, labels, levels.astype(np.float32)


@pytest.mark.parametrize(
    ("decoder", "params", "reference"),
    [
        ("contour_distance", {"min_seed_size": 4}, contour_distance),
        ("contour_distance", {"contour_ridge": True, "connectivity": 26}, contour_distance),
        ("watershed", {"channel": 2, "threshold": 0.5, "mask_threshold": 0.0}, watershed_maps),
    ],
)
def test_pieces_rebuild_the_whole_volume_decode(maps, decoder, params, reference):
    spec = seeded_spec(decoder, params)
    _, _, labels, _ = whole_flood(maps, spec)
    expected = reference(maps, **params)
    assert np.array_equal(labels > 0, expected > 0)
    assert len(np.unique(np.stack([labels.ravel(), expected.ravel()]), axis=1).T) == len(
        np.unique(expected)
    )  # the same partition
    assert expected.max() == 3


def test_seeded_spec_resolves_and_refuses():
    assert seeded_spec("cc", {}) is None
    assert seeded_spec("contour_distance", {"mode": "cc"}) is None
    spec = seeded_spec("watershed", {"threshold": 0.3, "connectivity": 18})
    assert (spec.connectivity, spec.seed_connectivity, spec.min_seed_size) == (2, 18, 0)
    spec = seeded_spec("contour_distance", {"min_instance_size": 9})
    assert (spec.connectivity, spec.seed_connectivity, spec.min_seed_size) == (1, 26, 32)
    assert spec.min_instance_size == 9
    with pytest.raises(VolsegError, match="h-minima depend on the whole volume"):
        seeded_spec("watershed", {"h": 0.1})
    with pytest.raises(VolsegError, match="needs a seed `threshold`"):
        seeded_spec("watershed", {})


def test_ring_is_the_cut_faces():
    r = ring((3, 4, 5), ((False, False), (True, False), (False, True)))
    assert r[:, 0, :].all() and r[:, :, -1].all()
    assert r.sum() == 3 * 5 + 3 * 4 - 3
    assert not ring((3, 4, 5), ((False, False),) * 3).any()


def test_given_the_right_ring_a_block_floods_as_the_whole_volume(maps):
    """A region holding the middle ball and parts of the others, without their seeds."""
    spec = seeded_spec("contour_distance", {"min_seed_size": 4})
    p, seeds, labels, levels = whole_flood(maps, spec)
    read = (slice(0, 20), slice(0, 24), slice(17, 42))
    assert set(np.unique(seeds[read])) == {0, 2}  # only the middle seed
    cut = Box.from_slices(read).cut_faces(labels.shape)
    args = (p.height[read], seeds[read], p.foreground[read])
    first, first_levels = ring_flood(*args, connectivity=1, cut=cut, outside=None)
    assert not np.array_equal(first, labels[read])  # round 1: the side balls are unreached
    assert (first_levels >= levels[read]).all()  # levels of real paths: upper bounds
    got, got_levels = ring_flood(*args, connectivity=1, cut=cut,
                                 outside=(labels[read], levels[read]))  # fmt: skip
    assert np.array_equal(got, labels[read])
    assert np.array_equal(got_levels, levels[read])
