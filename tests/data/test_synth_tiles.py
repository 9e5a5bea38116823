"""Tiled synthetic volumes: one tile in memory, deterministic per tile, global ids."""

import numpy as np
import pytest

from volseg.data.synth import vesicles
from volseg.data.synth_tiles import tile_seed, write_vesicle_tiles
from volseg.errors import VolsegError
from volseg.io import is_complete, open_volume

TILE = (16, 64, 64)
VOXEL = (30.0, 8.0, 8.0)


def test_tiles_are_their_own_seeded_volumes_with_global_ids(tmp_path):
    out = tmp_path / "v.zarr"
    found = write_vesicle_tiles(out, shape=(16, 128, 192), tile=TILE, voxel_size=VOXEL, seed=3)
    image = open_volume(out).numpy()
    labels = open_volume(f"{out}:labels/vesicles").numpy()
    assert is_complete(out) and is_complete(out, "labels/vesicles")
    assert open_volume(f"{out}:labels/mask").numpy().all()
    assert found["tiles"] == 6 and found["vesicles"] == labels.max()
    next_id = 0
    seen = set()
    for k, index in enumerate(np.ndindex(1, 2, 3)):
        raw, own, _ = vesicles(shape=TILE, voxel_size=VOXEL, seed=tile_seed(3, k))
        region = tuple(slice(i * t, (i + 1) * t) for i, t in zip(index, TILE, strict=True))
        assert np.array_equal(image[region], raw)
        expected = np.where(own > 0, own + next_id, 0)
        assert np.array_equal(labels[region], expected)  # no vesicle crosses a tile border
        ids = set(np.unique(labels[region]).tolist()) - {0}
        assert not ids & seen
        seen |= ids
        next_id += int(own.max())
    assert seen == set(range(1, next_id + 1))
    again = tmp_path / "again.zarr"
    write_vesicle_tiles(again, shape=(16, 128, 192), tile=TILE, voxel_size=VOXEL, seed=3)
    assert np.array_equal(open_volume(again).numpy(), image)


def test_shape_must_be_whole_tiles(tmp_path):
    with pytest.raises(VolsegError, match="whole number of tiles"):
        write_vesicle_tiles(tmp_path / "v.zarr", shape=(16, 100, 64), tile=TILE, voxel_size=VOXEL)
