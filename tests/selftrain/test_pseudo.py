"""Pseudo-labels from known maps: foreground, background and ignored voxels exactly; instances
from the decoder and their targets rebuilt from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from volseg.selftrain.pseudo import pseudo_labels, write_pseudo


def test_binary_fg_bg_and_ignored_exact() -> None:
    p = np.array([[[0.0, 0.05, 0.06, 0.5, 0.94, 0.95, 1.0]]], dtype=np.float32)
    labels, mask = pseudo_labels(p[None], t_hi=0.95, t_lo=0.05)
    assert labels.dtype == np.uint32 and mask.dtype == bool
    assert labels.tolist() == [[[0, 0, 0, 0, 0, 1, 1]]]
    assert mask.tolist() == [[[True, True, False, False, False, True, True]]]


def two_blobs() -> tuple[np.ndarray, np.ndarray]:
    """``(gt, maps)``: two boxes 4 voxels apart, one certain (p 0.99), one doubtful (0.7)."""
    gt = np.zeros((8, 16, 24), np.uint32)
    gt[2:6, 4:12, 2:10] = 1
    gt[2:6, 4:12, 14:22] = 2
    maps = np.zeros((3,) + gt.shape, np.float32)
    maps[0] = np.where(gt == 1, 0.99, np.where(gt == 2, 0.7, 0.01))
    maps[2] = np.where(gt > 0, 0.5, -1.0)
    maps[2][2:6, 6:10, 4:8] = 1.0  # a seed deep inside each cube
    maps[2][2:6, 6:10, 16:20] = 1.0
    return gt, maps


def test_instances_from_the_decoder_doubtful_ones_ignored() -> None:
    gt, maps = two_blobs()
    params = {"binary_threshold": [0.6, 0.5], "contour_threshold": [1.0, 1.0],
              "distance_threshold": [0.9, 0.0], "min_seed_size": 1}  # fmt: skip
    labels, mask = pseudo_labels(maps, t_hi=0.95, t_lo=0.05, decoder="contour_distance",
                                 params=params)  # fmt: skip
    first = np.unique(labels[gt == 1])
    assert first.size == 1 and first[0] > 0
    assert mask[gt == 1].all()  # confident instance: trains
    assert not mask[gt == 2].any()  # p = 0.7: ignored, whatever the decoder made of it
    assert (labels[gt == 2] > 0).all()  # kept as an instance, so its targets stay whole
    assert mask[gt == 0].all() and (labels[gt == 0] == 0).all()


def test_targets_rebuilt_from_pseudo_instances() -> None:
    from tests.train.helpers import TINY
    from volseg.config import loads
    from volseg.data.targets import make_targets

    gt, maps = two_blobs()
    params = {"binary_threshold": [0.6, 0.5], "contour_threshold": [1.0, 1.0],
              "distance_threshold": [0.9, 0.0], "min_seed_size": 1}  # fmt: skip
    labels, mask = pseudo_labels(maps, t_hi=0.95, t_lo=0.05, decoder="contour_distance",
                                 params=params)  # fmt: skip
    cfg = loads(TINY.replace("IMAGE", "x.zarr").replace("LABEL", "x.zarr/l"))
    spec = cfg.data.label_transform.targets
    got = make_targets(labels, (30.0, 8.0, 8.0), spec, mask=mask)
    want = make_targets(gt.astype(np.uint32), (30.0, 8.0, 8.0), spec, mask=mask)
    np.testing.assert_array_equal(got, want)  # same instances, same boundary / EDT targets
    assert (got[:, ~mask] == -1).all()  # ignored voxels carry the ignore value


def test_bad_thresholds_refused() -> None:
    with pytest.raises(ValueError, match="below"):
        pseudo_labels(np.zeros((1, 2, 2, 2), np.float32), t_hi=0.5, t_lo=0.5)


def test_written_store_trains_and_opens_in_view(tmp_path: Path) -> None:
    from tests.train.helpers import make_volume
    from volseg.io import open_volume
    from volseg.napari.discover import discover

    image = make_volume(tmp_path / "u.zarr", shape=(32, 64, 64))
    labels = np.zeros((32, 64, 64), np.uint32)
    labels[2:4, 2:6, 2:6] = 3
    mask = labels > 0
    label, mask_path = write_pseudo(tmp_path / "pseudo.zarr", labels, mask,
                                    voxel_size=(30.0, 8.0, 8.0), image=image)  # fmt: skip
    np.testing.assert_array_equal(np.asarray(open_volume(label).data[...]), labels)
    assert (np.asarray(open_volume(mask_path).data[...]) != 0).tolist() == mask.tolist()
    roles = sorted(item.role for item in discover(str(tmp_path / "pseudo.zarr")).items)
    assert "raw" in roles and len(roles) == 3
