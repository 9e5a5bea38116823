"""instance_edt / semantic_edt against per-instance scipy distance transforms."""

import numpy as np
import pytest
from scipy import ndimage

from volseg.data.edt_maps import instance_edt, semantic_edt
from volseg.errors import VolsegError

ANISO = (30.0, 8.0, 8.0)


def reference_instance_edt(labels, voxel_size, mode):
    """Slow reference: one scipy EDT per instance (and per slice in 2d), divided by its max."""
    out = np.full(labels.shape, -1.0)
    for i in np.unique(labels[labels > 0]):
        inst = labels == i
        if mode == "3d":
            d = ndimage.distance_transform_edt(inst, sampling=voxel_size)
            out[inst] = d[inst] / d[inst].max()
            continue
        for z in range(labels.shape[0]):
            if inst[z].any():
                d = ndimage.distance_transform_edt(inst[z], sampling=voxel_size[1:])
                out[z][inst[z]] = d[inst[z]] / d[inst[z]].max()
    return out


def spheres(shape, voxel_size, centres_nm, radii_nm):
    """Label volume of balls given in physical units; later balls overwrite earlier ones."""
    grid = np.indices(shape).astype(float) * np.asarray(voxel_size, float)[:, None, None, None]
    lab = np.zeros(shape, dtype=np.uint32)
    for i, (c, r) in enumerate(zip(centres_nm, radii_nm, strict=True), start=1):
        dist2 = sum((grid[a] - c[a]) ** 2 for a in range(3))
        lab[dist2 <= r**2] = i
    return lab


def two_touching_spheres(voxel_size=ANISO):
    """Two balls of radius 60 nm whose surfaces overlap (so they touch along a disc)."""
    return spheres((10, 32, 40), voxel_size, [(150, 128, 100), (150, 128, 210)], [60, 60])


def touching_cubes_and_border():
    lab = np.zeros((7, 12, 14), dtype=np.uint16)
    lab[1:6, 2:9, 1:6] = 1
    lab[1:6, 2:9, 6:11] = 2
    lab[0:4, 0:5, 11:14] = 3  # touches three faces of the volume
    return lab


VOLUMES = {
    "spheres": two_touching_spheres(),
    "cubes": touching_cubes_and_border(),
}


@pytest.mark.parametrize("voxel_size", [ANISO, (1.0, 1.0, 1.0), (5.0, 7.0, 3.0)])
@pytest.mark.parametrize("mode", ["3d", "2d"])
@pytest.mark.parametrize("name", sorted(VOLUMES))
def test_instance_edt_matches_reference(name, mode, voxel_size):
    lab = VOLUMES[name]
    got = instance_edt(lab, voxel_size, mode=mode)
    assert got.dtype == np.float32 and got.shape == lab.shape
    np.testing.assert_allclose(got, reference_instance_edt(lab, voxel_size, mode), atol=1e-5)
    inside = got[lab > 0]
    assert inside.min() > 0 and inside.max() == 1.0
    assert np.all(got[lab == 0] == -1.0)


def test_touching_spheres_are_separate_instances():
    lab = two_touching_spheres()
    assert set(np.unique(lab)) == {0, 1, 2}
    # the spheres share a face: the contact voxels are at the minimum distance of one x-step
    got = instance_edt(lab, ANISO)
    contact = (lab == 1) & (np.roll(lab, -1, axis=2) == 2)
    assert contact.sum() > 5
    d = ndimage.distance_transform_edt(lab == 1, sampling=ANISO)
    np.testing.assert_allclose(got[contact], 8.0 / d.max(), rtol=1e-6)


def test_anisotropy_changes_the_distances_as_expected():
    lab = np.zeros((7, 11, 11), dtype=np.uint32)
    lab[1:6, 1:10, 1:10] = 1  # 5 x 9 x 9 box
    iso = instance_edt(lab, (1.0, 1.0, 1.0))
    aniso = instance_edt(lab, ANISO)
    # isotropic: the centre is 3 steps from the outside (z), the top-centre voxel 1 step
    assert iso[3, 5, 5] == 1.0
    assert iso[1, 5, 5] == pytest.approx(1 / 3)
    # 30x8x8 nm: z-steps are long, so the centre is 5 in-plane steps (40 nm) from the outside
    # and the top-centre voxel min(30 nm up, 40 nm sideways) = 30 nm
    assert aniso[3, 5, 5] == 1.0
    assert aniso[1, 5, 5] == pytest.approx(30 / 40)
    assert not np.allclose(iso, aniso)


def test_instance_filling_the_volume_is_one():
    lab = np.full((3, 4, 5), 7, dtype=np.uint32)
    np.testing.assert_array_equal(instance_edt(lab, ANISO), 1.0)
    lab[1] = 8  # in 2d every slice is filled by one instance
    np.testing.assert_array_equal(instance_edt(lab, ANISO, mode="2d"), 1.0)
    assert instance_edt(lab, ANISO).max() == 1.0


def test_empty_volume_is_background():
    np.testing.assert_array_equal(instance_edt(np.zeros((2, 3, 4), np.uint8), ANISO), -1.0)


def test_quantize_snaps_up_to_the_grid():
    lab = two_touching_spheres()
    plain = instance_edt(lab, ANISO)
    q = instance_edt(lab, ANISO, quantize=True, levels=4)
    fg = lab > 0
    assert set(np.unique(q[fg])) <= {0.25, 0.5, 0.75, 1.0}
    assert np.all(q[fg] >= plain[fg] - 1e-6) and np.all(q[fg] - plain[fg] < 0.25 + 1e-6)
    assert np.all(q[~fg] == -1.0)


def reference_semantic(labels, voxel_size, alpha_fore, alpha_back):
    fg = labels > 0
    d_in = ndimage.distance_transform_edt(fg, sampling=voxel_size)
    d_out = ndimage.distance_transform_edt(~fg, sampling=voxel_size)
    return np.where(fg, np.tanh(d_in / alpha_fore), -np.tanh(d_out / alpha_back))


@pytest.mark.parametrize("voxel_size", [ANISO, (1.0, 1.0, 1.0)])
def test_semantic_edt_matches_reference(voxel_size):
    lab = two_touching_spheres()
    got = semantic_edt(lab, voxel_size, alpha_fore=20.0, alpha_back=100.0)
    assert got.dtype == np.float32
    want = reference_semantic(lab, voxel_size, 20.0, 100.0)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_semantic_edt_2d_and_degenerate_volumes():
    lab = touching_cubes_and_border()
    got = semantic_edt(lab, ANISO, mode="2d")
    for z in range(lab.shape[0]):
        if (lab[z] > 0).any():
            want = reference_semantic(lab[z : z + 1], (1e9, 8.0, 8.0), 80.0, 500.0)
            np.testing.assert_allclose(got[z], want[0], atol=1e-6)
    assert np.all(semantic_edt(np.ones((2, 3, 4), np.uint8), ANISO) == 1.0)
    assert np.all(semantic_edt(np.zeros((2, 3, 4), np.uint8), ANISO) == -1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda lab: instance_edt(lab, ANISO, mode="4d"), "mode must be '3d' or '2d'"),
        (lambda lab: instance_edt(lab, ANISO, quantize=1), "quantize must be true or false"),
        (lambda lab: instance_edt(lab, ANISO, quantize=True, levels=0), "levels must be"),
        (lambda lab: semantic_edt(lab, ANISO, alpha_fore=0), "alpha_fore must be a positive"),
        (lambda lab: semantic_edt(lab, ANISO, alpha_back="x"), "alpha_back must be a positive"),
        (lambda lab: semantic_edt(lab, ANISO, mode="xy"), "mode must be '3d' or '2d'"),
    ],
)
def test_bad_options(call, match):
    with pytest.raises(VolsegError, match=match):
        call(touching_cubes_and_border())
