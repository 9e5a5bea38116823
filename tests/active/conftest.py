"""A real pool (a corner of the Lucchi++ 5 nm crop), a tiny random-weight checkpoint, and
rankings of that pool by every strategy (computed once)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

LUCCHI = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "lucchi_pp_crops"
CROP = LUCCHI / "train_crop.h5"
REGION = (16, 64, 64)
#: The rsunet's last encoder stage (4 x 8 channels), pooled by diversity and hybrid.
LAYER = "net.encoders.1"


def real_raw(shape=(32, 192, 192)) -> np.ndarray:
    from volseg.io import open_volume

    volume = open_volume(f"{CROP}:raw", voxel_size=(5, 5, 5))
    return np.asarray(volume.data[: shape[0], : shape[1], : shape[2]])


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    """``(config, checkpoint)``: the prediction tests' tiny rsunet [4, 8], random weights."""
    from tests.infer.predict_fixtures import tiny_checkpoint, tiny_config

    cfg = tiny_config()
    return cfg, tiny_checkpoint(tmp_path_factory.mktemp("active") / "tiny.pt", cfg)


@pytest.fixture(scope="session")
def real_pool():
    from volseg.io import Volume

    return Volume(real_raw(), voxel_size=(5, 5, 5))


@pytest.fixture(scope="session")
def rankings(tiny, real_pool):
    """Every strategy's full ranking of the real pool (18 regions of 16 x 64 x 64)."""
    import torch

    from volseg.active import STRATEGIES
    from volseg.active.rank import rank

    cfg, ckpt = tiny
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {
            s: rank(cfg, ckpt, real_pool, region=REGION, strategy=s, feature_layer=LAYER, seed=0)
            for s in STRATEGIES
        }
    finally:
        torch.set_num_threads(threads)
