import itertools

import numpy as np
import pytest
import zarr

from volseg.io.blocks import block_shape, default_chunks, iter_blocks, read_blocks, storage_chunks


def test_default_chunks_follow_anisotropy():
    assert default_chunks((500, 500, 500), (8, 8, 8)) == (64, 64, 64)
    assert default_chunks((500, 2000, 2000), (40, 4, 4)) == (16, 128, 128)
    assert default_chunks((10, 20, 500), (8, 8, 8)) == (10, 20, 64)
    assert default_chunks((3, 100, 100, 100), (5, 5, 5), channels=True) == (3, 64, 64, 64)


def test_block_shape_is_whole_units_within_budget():
    assert block_shape((100, 200, 300), (10, 20, 30), itemsize=1, target_bytes=10**9) == (
        100,
        200,
        300,
    )
    # a slab: full y and x, as many z-units as fit
    assert block_shape((100, 200, 300), (10, 20, 30), itemsize=1, target_bytes=200 * 300 * 25) == (
        20,
        200,
        300,
    )
    # too small for one full row of units: one unit high and deep, several along x
    assert block_shape(
        (100, 200, 300), (10, 20, 30), itemsize=4, target_bytes=10 * 20 * 30 * 4 * 3
    ) == (10, 20, 90)


def test_iter_blocks_tiles_exactly_once():
    shape = (7, 5, 9)
    seen = np.zeros(shape, int)
    for block in iter_blocks(shape, (3, 5, 4)):
        seen[block] += 1
    assert (seen == 1).all()


@pytest.mark.parametrize(
    ("shape", "block"),
    [((7, 5, 9), (3, 5, 4)), ((3, 7, 5, 9), (2, 3, 2, 4)), ((5, 9), (2, 4)), ((9,), (4,))],
)
def test_iter_blocks_is_the_c_order_tiling_of_any_rank(shape, block):
    starts = itertools.product(*(range(0, n, b) for n, b in zip(shape, block, strict=True)))
    expected = [
        tuple(slice(s, min(s + b, n)) for s, b, n in zip(first, block, shape, strict=True))
        for first in starts
    ]
    assert list(iter_blocks(shape, block)) == expected
    assert list(iter_blocks((0, *shape[1:]), block)) == []


def test_storage_chunks_and_read_blocks(tmp_path):
    arr = zarr.create_array(tmp_path / "a.zarr", shape=(6, 6, 6), dtype="u2", chunks=(2, 3, 6))
    arr[...] = np.arange(216).reshape(6, 6, 6)
    assert storage_chunks(arr) == (2, 3, 6)
    assert storage_chunks(np.zeros(3)) is None
    total = np.zeros((6, 6, 6), int)
    for block, values in read_blocks(arr, target_bytes=2 * 3 * 6 * 2):
        assert values.shape == (2, 3, 6)
        total[block] = values
    np.testing.assert_array_equal(total, arr[...])


def test_storage_chunks_of_dask():
    import dask.array as da

    assert storage_chunks(da.zeros((10, 10), chunks=(4, 5))) == (4, 5)
