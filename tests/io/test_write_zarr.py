import dask.array as da
import numpy as np
import pytest
import zarr

from volseg.io import open_volume, write_volume
from volseg.io.pyramid import downsample
from volseg.io.source import prepare
from volseg.io.write_zarr import _copy_level0, pyramid_geometry


class RecordingTarget:
    """Stands in for a zarr array and records the regions written."""

    def __init__(self, shape, chunks, shards=None):
        self.shape, self.chunks, self.shards = shape, chunks, shards
        self.data = np.zeros(shape, np.uint16)
        self.regions = []

    def __setitem__(self, region, values):
        self.regions.append(region)
        self.data[region] = values


def _aligned(region, unit):
    return all(s.start % u == 0 for s, u in zip(region, unit, strict=True))


@pytest.mark.parametrize("lazy", [False, True])
def test_level0_is_written_in_chunk_aligned_bounded_blocks(monkeypatch, lazy):
    import volseg.io.write_zarr as wz

    data = np.arange(8 * 16 * 16, dtype=np.uint16).reshape(8, 16, 16)
    source = da.from_array(data, chunks=(3, 5, 7)) if lazy else data
    monkeypatch.setattr(wz, "LEVEL0_BYTES", 4 * 16 * 16 * 2)  # two shards per block
    target = RecordingTarget(data.shape, chunks=(2, 8, 8), shards=(2, 16, 16))
    _copy_level0(prepare(source, kind="image", where="t"), target)
    np.testing.assert_array_equal(target.data, data)
    assert len(target.regions) == 2
    assert all(_aligned(r, (2, 16, 16)) for r in target.regions)
    assert max(np.prod([s.stop - s.start for s in r]) for r in target.regions) == 4 * 16 * 16


def test_pyramid_geometry_keeps_voxel_centres():
    scales, offsets = pyramid_geometry((40.0, 4.0, 4.0), (0.0, 100.0, 0.0), [(1, 2, 2), (2, 2, 2)])
    assert scales == [(40.0, 4.0, 4.0), (40.0, 8.0, 8.0), (80.0, 16.0, 16.0)]
    assert offsets == [(0.0, 100.0, 0.0), (0.0, 102.0, 2.0), (20.0, 106.0, 6.0)]


def test_every_level_is_the_downsampled_level_before(tmp_path):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (9, 140, 130)).astype(np.uint8)
    vol = write_volume(tmp_path / "p.zarr", image, voxel_size=(30, 6, 6), chunks=(4, 32, 32))
    assert vol.attrs["n_levels"] == 3
    previous = image
    for level, factors in ((1, (1, 2, 2)), (2, (1, 2, 2))):
        current = open_volume(tmp_path / "p.zarr", level=level).numpy()
        np.testing.assert_array_equal(current, downsample(previous, factors, method="mean"))
        previous = current
    group = zarr.open_group(tmp_path / "p.zarr", mode="r")
    assert group["s2"].shape == (9, 35, 33) and group["s2"].chunks == (4, 32, 32)
    assert group.attrs["ome"]["multiscales"][0]["type"] == "mean"
