"""The test input: one network tile of a real image on the network grid."""

import numpy as np
import pytest

from tests.export.fixtures import lucchi_config, synthetic_image, vesicle_config
from volseg.errors import VolsegError
from volseg.export.sample import cut_tile, tile_shape


def test_tile_shape_rounds_to_the_down_factor():
    assert tile_shape([1, 192, 192], (8, 8), 2) == (1, 192, 192)
    assert tile_shape([1, 100, 60], (8, 8), 2) == (1, 96, 56)
    assert tile_shape([30, 64, 4], (4, 8, 8), 3) == (28, 64, 8)  # never below one step


def test_lucchi_tile_is_resampled_to_10nm():
    """The tutorial's crop is 5 nm; the network works at 10 nm: 2 x 128 x 128 data voxels
    become one 64 x 64 slice (block mean)."""
    cfg = lucchi_config()
    test = cut_tile(cfg, tile=(1, 64, 64))
    assert test.raw.shape == (1, 1, 64, 64) and test.raw.dtype == np.float32
    assert test.voxel_size == (10.0, 10.0, 10.0)
    assert test.start == ((165 - 2) // 2, (512 - 128) // 2, (512 - 128) // 2)
    assert 20 < test.raw.mean() < 250  # raw intensities, not normalised


def test_given_image_and_its_errors(tmp_path):
    image = synthetic_image(tmp_path / "img.zarr", shape=(8, 20, 20))
    cfg = vesicle_config(image)
    with pytest.raises(VolsegError, match=r"\[8, 20, 20\] is smaller than the test input needs"):
        cut_tile(cfg, tile=(8, 32, 32))
    assert cut_tile(cfg, tile=(8, 16, 16), image=image).raw.shape == (1, 8, 16, 16)
    with pytest.raises(VolsegError, match="cannot read the test image"):
        cut_tile(cfg, tile=(8, 16, 16), image=str(tmp_path / "missing.zarr"))
    with pytest.raises(VolsegError, match="names no training image; give --image"):
        cut_tile(vesicle_config(image, "data.train_image=[]"), tile=(8, 16, 16))
