"""affinities(): values, ignore at the patch edge and under the mask, against brute force."""

import itertools

import numpy as np
import pytest

from volseg.data.affinity import affinities
from volseg.errors import VolsegError
from volseg.offsets import PRESETS


def brute(labels, offsets, mask=None):
    """One voxel at a time, straight from the definition."""
    shape = labels.shape
    valid = np.ones(shape, bool) if mask is None else mask
    out = np.empty((len(offsets), *shape), np.float32)
    for k, o in enumerate(offsets):
        for v in itertools.product(*map(range, shape)):
            w = tuple(a + b for a, b in zip(v, o, strict=True))
            if not all(0 <= c < s for c, s in zip(w, shape, strict=True)):
                out[(k, *v)] = -1
            elif not (valid[v] and valid[w]):
                out[(k, *v)] = -1
            else:
                out[(k, *v)] = float(labels[v] == labels[w] and labels[v] != 0)
    return out


def random_labels(rng, shape, n=3):
    return rng.integers(0, n + 1, size=shape).astype(np.uint32)


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_for_mixed_signs(seed):
    rng = np.random.default_rng(seed)
    labels = random_labels(rng, (4, 5, 6))
    offsets = [(-1, 0, 0), (0, 1, 0), (0, 0, -2), (1, -1, 2), (-3, 2, -1)]
    np.testing.assert_array_equal(affinities(labels, offsets), brute(labels, offsets))


@pytest.mark.parametrize("seed", range(3))
def test_mask_makes_every_pair_touching_it_ignored(seed):
    rng = np.random.default_rng(seed)
    labels = random_labels(rng, (5, 6, 6))
    mask = rng.random(labels.shape) > 0.3
    offsets = PRESETS["nearest"] + ((0, -2, 1),)
    got = affinities(labels, offsets, mask=mask)
    np.testing.assert_array_equal(got, brute(labels, offsets, mask))
    assert (got[:, ~mask] == -1).all()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset(preset):
    rng = np.random.default_rng(7)
    labels = random_labels(rng, (5, 30, 29), n=2)
    mask = rng.random(labels.shape) > 0.1
    offsets = PRESETS[preset]
    got = affinities(labels, offsets, mask=mask)
    assert got.dtype == np.float32 and got.shape == (len(offsets), *labels.shape)
    np.testing.assert_array_equal(got, brute(labels, offsets, mask))


def test_offset_longer_than_the_volume_is_all_ignored():
    labels = np.ones((2, 3, 3), np.uint8)
    got = affinities(labels, [(-2, 0, 0), (0, -1, 0)])
    assert (got[0] == -1).all()
    assert (got[1, :, 1:] == 1).all() and (got[1, :, 0] == -1).all()


def test_background_pairs_are_zero():
    labels = np.zeros((3, 3, 3), np.uint16)
    got = affinities(labels, PRESETS["nearest"])
    assert set(np.unique(got).tolist()) == {-1.0, 0.0}


def test_bad_input_is_one_sentence():
    with pytest.raises(VolsegError, match="mask shape"):
        affinities(np.zeros((2, 2, 2), int), [(-1, 0, 0)], mask=np.ones((2, 2), bool))
    with pytest.raises(VolsegError, match=r"\(z, y, x\)"):
        affinities(np.zeros((2, 2), int), [(-1, 0, 0)])


def test_make_targets_lays_out_one_channel_per_offset_after_other_targets():
    from volseg.data import make_targets

    rng = np.random.default_rng(3)
    labels = random_labels(rng, (4, 8, 8))
    mask = rng.random(labels.shape) > 0.2
    spec = [{"name": "binary"}, {"name": "affinity", "kwargs": {"offsets": "isotropic-9"}}]
    got = make_targets(labels, (8.0, 8.0, 8.0), spec, mask=mask)
    assert got.shape == (10, *labels.shape)
    assert (got[:, ~mask] == -1).all()
    np.testing.assert_array_equal(got[1:], brute(labels, PRESETS["isotropic-9"], mask))


def test_make_targets_converts_nm_offsets_with_the_grid_voxel_size():
    from volseg.data import make_targets

    labels = random_labels(np.random.default_rng(4), (4, 6, 6))
    spec = [{"name": "affinity", "kwargs": {"offsets": [[-40, 0, 0], [0, 0, -16]], "unit": "nm"}}]
    got = make_targets(labels, (40.0, 8.0, 8.0), spec)
    np.testing.assert_array_equal(got, brute(labels, [(-1, 0, 0), (0, 0, -2)]))
    with pytest.raises(VolsegError, match="unknown affinity offset set"):
        make_targets(labels, (40.0, 8.0, 8.0), [{"name": "affinity", "kwargs": {"offsets": "x"}}])


def test_target_channels_counts_offsets_whatever_the_unit():
    from volseg.channels import target_channels

    assert target_channels("binary") == 1
    assert target_channels("affinity") == 3
    assert target_channels("affinity", {"offsets": "anisotropic-12"}) == 12
    assert target_channels("affinity", {"offsets": [[-30, 0, 0]], "unit": "nm"}) == 1
