"""instance_boundary against an explicit neighbourhood loop."""

import itertools

import numpy as np
import pytest

from volseg.data.boundary import instance_boundary
from volseg.errors import VolsegError


def reference_offsets(thickness, mode_2d, connectivity):
    """Offsets reached in at most ``thickness`` steps to a neighbour: |d| = 1, 2 or 3 nonzero
    coordinates of +-1 for connectivity 6, 18, 26 (never a z step in 2D)."""
    most = {6: 1, 18: 2, 26: 3}[connectivity]
    steps = [
        d for d in itertools.product((-1, 0, 1), repeat=3)
        if sum(map(abs, d)) <= most and not (mode_2d and d[0])
    ]  # fmt: skip
    reached = {(0, 0, 0)}
    for _ in range(thickness):
        reached |= {tuple(a + b for a, b in zip(r, d, strict=True)) for r in reached for d in steps}
    return sorted(reached)


def reference_boundary(labels, thickness, edge_mode, mode_2d, connectivity=26):
    """Obviously-correct boundary: visit every voxel and every offset in its neighbourhood."""
    nz, ny, nx = labels.shape
    offsets = reference_offsets(thickness, mode_2d, connectivity)
    out = np.zeros(labels.shape, dtype=bool)
    for z, y, x in itertools.product(range(nz), range(ny), range(nx)):
        v = labels[z, y, x]
        if edge_mode != "all" and v == 0:
            continue
        for dz, dy, dx in offsets:
            zz, yy, xx = z + dz, y + dy, x + dx
            if not (0 <= zz < nz and 0 <= yy < ny and 0 <= xx < nx):
                continue
            u = labels[zz, yy, xx]
            if u == v or (edge_mode == "seg-no-bg" and u == 0):
                continue
            out[z, y, x] = True
            break
    return out


def touching_cubes():
    """Cubes 1|2 share a face, 3 touches the volume border, 4 touches 2 and background."""
    lab = np.zeros((6, 10, 12), dtype=np.uint32)
    lab[1:5, 2:7, 1:5] = 1
    lab[1:5, 2:7, 5:9] = 2
    lab[0:3, 0:3, 9:12] = 3
    lab[4:6, 7:10, 6:9] = 4
    return lab


CASES = list(itertools.product(("all", "seg-all", "seg-no-bg"), (1, 2), (False, True)))


@pytest.mark.parametrize(("edge_mode", "thickness", "mode_2d"), CASES)
def test_touching_cubes_match_reference(edge_mode, thickness, mode_2d):
    lab = touching_cubes()
    got = instance_boundary(lab, thickness=thickness, edge_mode=edge_mode, mode_2d=mode_2d)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, reference_boundary(lab, thickness, edge_mode, mode_2d))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("edge_mode", "thickness", "mode_2d"), CASES)
def test_random_labels_match_reference(seed, edge_mode, thickness, mode_2d):
    rng = np.random.default_rng(seed)
    lab = rng.choice(np.array([0, 0, 5, 9, 2**31 + 7], dtype=np.uint64), size=(5, 6, 7))
    got = instance_boundary(lab, thickness=thickness, edge_mode=edge_mode, mode_2d=mode_2d)
    np.testing.assert_array_equal(got, reference_boundary(lab, thickness, edge_mode, mode_2d))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("connectivity", [6, 18])
@pytest.mark.parametrize(("edge_mode", "thickness", "mode_2d"), CASES)
def test_face_and_edge_neighbourhoods_match_reference(seed, connectivity, edge_mode, thickness,
                                                      mode_2d):  # fmt: skip
    rng = np.random.default_rng(seed)
    lab = rng.choice(
        np.array([0, 3, 4, 7], dtype=np.uint32), size=(5, 6, 7), p=[0.1, 0.6, 0.2, 0.1]
    )
    got = instance_boundary(
        lab, thickness=thickness, edge_mode=edge_mode, mode_2d=mode_2d, connectivity=connectivity
    )
    want = reference_boundary(lab, thickness, edge_mode, mode_2d, connectivity)
    np.testing.assert_array_equal(got, want)


def test_neighbourhood_sizes_of_a_lone_voxel():
    lab = np.zeros((7, 7, 7), dtype=np.uint8)
    lab[3, 3, 3] = 1
    sizes = {c: int(instance_boundary(lab, edge_mode="all", connectivity=c).sum())
             for c in (6, 18, 26)}  # fmt: skip
    assert sizes == {6: 7, 18: 19, 26: 27}  # the voxel and its face / edge / box neighbours
    two = instance_boundary(lab, edge_mode="all", connectivity=6, thickness=2)
    assert int(two.sum()) == 25  # the L1 ball of radius 2
    assert int(instance_boundary(lab, edge_mode="all", connectivity=6, mode_2d=True).sum()) == 5


def test_face_boundary_keeps_interiors_of_different_instances_apart():
    """Two interior voxels of different instances are never 18-adjacent (6-neighbourhood)."""
    rng = np.random.default_rng(7)
    lab = rng.integers(1, 4, size=(12, 12, 12)).astype(np.uint32)
    lab = np.repeat(np.repeat(np.repeat(lab, 2, 0), 2, 1), 2, 2)  # blocky instances
    interior = np.where(instance_boundary(lab, connectivity=6), 0, lab)
    for d in itertools.product((-1, 0, 1), repeat=3):
        if sum(map(abs, d)) not in (1, 2):
            continue
        a = interior[
            tuple(slice(max(0, -k), interior.shape[i] - max(0, k)) for i, k in enumerate(d))
        ]
        b = interior[
            tuple(slice(max(0, k), interior.shape[i] - max(0, -k)) for i, k in enumerate(d))
        ]
        assert not np.any((a > 0) & (b > 0) & (a != b)), d


def test_edge_modes_on_a_known_contact():
    lab = np.zeros((1, 1, 6), dtype=np.uint16)
    lab[0, 0, 1:3] = 1
    lab[0, 0, 3:5] = 2  # 0 1 1 2 2 0
    get = lambda mode: instance_boundary(lab, edge_mode=mode).astype(int)[0, 0].tolist()  # noqa: E731
    assert get("all") == [1, 1, 1, 1, 1, 1]
    assert get("seg-all") == [0, 1, 1, 1, 1, 0]
    assert get("seg-no-bg") == [0, 0, 1, 1, 0, 0]


def test_volume_edge_is_not_a_boundary():
    lab = np.ones((3, 4, 5), dtype=np.uint8)
    assert not instance_boundary(lab, edge_mode="all", thickness=2).any()


def test_2d_mode_ignores_z_neighbours():
    lab = np.zeros((2, 3, 3), dtype=np.uint32)
    lab[0] = 1
    lab[1] = 2
    assert instance_boundary(lab, edge_mode="seg-no-bg").all()
    assert not instance_boundary(lab, edge_mode="seg-no-bg", mode_2d=True).any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"thickness": 0}, "thickness must be >= 1"),
        ({"thickness": 1.5}, "thickness must be an integer"),
        ({"thickness": True}, "thickness must be an integer"),
        ({"edge_mode": "inner"}, "edge_mode must be one of all, seg-all, seg-no-bg"),
        ({"connectivity": 8}, "connectivity must be 6, 18 or 26"),
        ({"connectivity": True}, "connectivity must be 6, 18 or 26"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(VolsegError, match=match):
        instance_boundary(touching_cubes(), **kwargs)


def test_needs_3d():
    with pytest.raises(VolsegError, match=r"\(z, y, x\)"):
        instance_boundary(np.zeros((4, 4), dtype=np.uint8))


def two_touching_spheres():
    """Balls of radius 50 nm on a 30x8x8 nm grid whose surfaces meet (the second overwrites)."""
    vs = np.array([30.0, 8.0, 8.0])[:, None, None, None]
    grid = np.indices((7, 20, 30)) * vs
    lab = np.zeros((7, 20, 30), dtype=np.uint32)
    for i, centre in enumerate([(90, 80, 80), (90, 80, 170)], start=1):
        c = np.asarray(centre, float)[:, None, None, None]
        lab[((grid - c) ** 2).sum(0) <= 50**2] = i
    return lab


@pytest.mark.parametrize(("edge_mode", "mode_2d"), [("seg-all", False), ("seg-no-bg", True)])
def test_touching_spheres_match_reference(edge_mode, mode_2d):
    lab = two_touching_spheres()
    assert set(np.unique(lab)) == {0, 1, 2}
    got = instance_boundary(lab, edge_mode=edge_mode, mode_2d=mode_2d)
    np.testing.assert_array_equal(got, reference_boundary(lab, 1, edge_mode, mode_2d))
    assert got[lab == 2].any() and got[lab == 1].any()
