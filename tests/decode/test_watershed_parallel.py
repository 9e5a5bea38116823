"""parallel=True gives exactly the single-threaded labels."""

import numba
import numpy as np
import pytest
from scipy import ndimage as ndi

from volseg.decode import _flood, _parallel, watershed
from volseg.decode._neighbours import neighbour_offsets, padded_shape, row_offsets


def _blobs(shape, seed, n_seeds=60):
    """Smooth heights, a mask of many separate blobs, and point markers."""
    rng = np.random.default_rng(seed)
    height = ndi.gaussian_filter(rng.random(shape), 1.5).astype(np.float32)
    mask = ndi.gaussian_filter(rng.random(shape), 2.0) > 0.5
    markers = np.zeros(shape, np.int32)
    markers.flat[rng.choice(height.size, n_seeds, replace=False)] = np.arange(1, n_seeds + 1)
    return height, mask, markers


@pytest.mark.parametrize("shape", [(20, 40, 40), (80, 90)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.uint16])
@pytest.mark.parametrize("connectivity", [1, 2])
def test_parallel_equals_serial(shape, dtype, connectivity):
    height, mask, markers = _blobs(shape, seed=len(shape) + connectivity)
    if dtype in (np.uint8, np.uint16):
        height = (height * np.iinfo(dtype).max).astype(dtype)
    else:
        height = height.astype(dtype)
    serial = watershed(height, markers, mask=mask, connectivity=connectivity)
    parallel = watershed(height, markers, mask=mask, connectivity=connectivity, parallel=True)
    np.testing.assert_array_equal(parallel, serial)
    assert serial.any()


def test_parallel_without_mask_equals_serial():
    height, _, markers = _blobs((16, 32, 32), seed=7)
    for mode in ("exact", "fast"):
        serial = watershed(height, markers, mode=mode)
        np.testing.assert_array_equal(watershed(height, markers, mode=mode, parallel=True), serial)


@pytest.mark.parametrize("exact", [True, False])
def test_component_flood_runs_and_matches_serial(exact):
    if numba.get_num_threads() < 2:
        pytest.skip("the component flood needs at least two numba threads")
    height, mask, markers = _blobs((20, 48, 48), seed=11)
    # four equal slabs: balanced groups, so the component path is taken
    mask = np.zeros(height.shape, bool)
    for z0 in range(0, 20, 5):
        mask[z0 : z0 + 4] = True
    if not exact:
        height = (height * 255).astype(np.uint8)
    work_shape = padded_shape(height.shape)
    offsets = neighbour_offsets(3, 1, work_shape)
    rows = row_offsets(3, 1, work_shape)
    results = []
    for parallel in (False, True):
        work = _flood.prepare(height, markers, mask, cell_dtype=np.uint32, pz=1, parallel=parallel)
        if parallel:
            assert _parallel.flood_components(work, offsets, rows, mask, cc_connectivity=6)
        else:
            _flood.flood_serial(work, offsets, rows)
        results.append(_flood.read_back(work, height.shape, np.uint32, parallel=parallel))
    np.testing.assert_array_equal(results[1], results[0])
    assert (results[0][~mask] == 0).all() and results[0][mask].all()


def test_component_flood_declines_when_one_component_dominates():
    height, _, markers = _blobs((10, 30, 30), seed=2)
    mask = np.ones(height.shape, bool)
    mask[:, :, 28] = False  # a 1-voxel-wide strip: a tiny second component
    work_shape = padded_shape(height.shape)
    work = _flood.prepare(height, markers, mask, cell_dtype=np.uint32, pz=1, parallel=True)
    offsets = neighbour_offsets(3, 1, work_shape)
    assert not _parallel.flood_components(
        work, offsets, row_offsets(3, 1, work_shape), mask, cc_connectivity=6
    )
