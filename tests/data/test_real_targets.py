"""Targets on real EM ground truth (``<repo>/../shared/data``; CI has it, so no skipping)."""

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from volseg.data import make_targets
from volseg.io import open_volume

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SPEC = [
    {"name": "binary"},
    {"name": "instance_boundary", "kwargs": {"edge_mode": "seg-all"}},
    {"name": "instance_boundary", "kwargs": {"edge_mode": "seg-no-bg", "thickness": 2}},
    {"name": "instance_edt", "kwargs": {"mode": "3d"}},
    {"name": "instance_edt", "kwargs": {"mode": "2d"}},
    {"name": "semantic_edt"},
]
CASES = {
    # file, key, crop, voxel size stated by SOURCE.md
    "neuroproof": (
        "neuroproof_training_sample2/volume.h5",
        "labels",
        np.s_[:64, :128, :128],
        (10.0, 10.0, 10.0),
    ),
    "lucchi": (
        "lucchi_pp_crops/train_crop.h5",
        "instances",
        np.s_[40:88, 256:448, 256:448],
        (5.0, 5.0, 5.0),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_targets_on_real_labels(case):
    rel, key, crop, expected_size = CASES[case]
    volume = open_volume(DATA / rel, key)
    assert volume.voxel_size == expected_size  # from the resolution_nm_zyx attribute
    labels = volume[crop]
    maps = make_targets(labels, volume.voxel_size, SPEC)
    assert maps.dtype == np.float32 and maps.shape == (len(SPEC), *labels.shape)

    fg = labels > 0
    np.testing.assert_array_equal(maps[0], fg)
    for c in (1, 2):
        assert set(np.unique(maps[c])) <= {0.0, 1.0}
        assert not maps[c][~fg].any()  # seg-* modes mark foreground only
    assert maps[1].any()

    ids = np.unique(labels[fg])
    for c in (3, 4):
        edt = maps[c]
        assert np.all(edt[~fg] == -1.0)
        assert edt[fg].min() > 0 and edt[fg].max() == 1.0
    # every instance peaks at exactly 1 (3d): as many peaks as np.unique finds instances
    peaks = ndimage.maximum(maps[3], labels, index=ids)
    assert len(ids) > 3 and np.all(peaks == 1.0)
    # spot check the largest instance against scipy with the file's voxel size
    big = ids[np.argmax(ndimage.sum_labels(fg, labels, index=ids))]
    inst = labels == big
    d = ndimage.distance_transform_edt(inst, sampling=volume.voxel_size)
    np.testing.assert_allclose(maps[3][inst], d[inst] / d[inst].max(), atol=1e-5)

    sem = maps[5]
    assert np.all(sem[fg] > 0) and np.all(sem[~fg] < 0) and np.abs(sem).max() <= 1.0


def test_lucchi_instances_cover_the_mitochondria_mask():
    path = DATA / "lucchi_pp_crops/train_crop.h5"
    crop = np.s_[:32, 128:384, 128:384]
    instances = open_volume(path, "instances")[crop]
    mask = open_volume(path, "labels")[crop]
    binary = make_targets(instances, 5.0, ["binary"])[0]
    np.testing.assert_array_equal(binary, mask > 0)
