"""Warm the numba warp kernel once so the first test does not carry its compile time."""

import numpy as np
import pytest


@pytest.fixture(scope="session", autouse=True)
def _compiled_warp():
    from volseg.data.augment._warp import warp

    z = np.zeros((2, 2, 2))
    warp(z.astype(np.float32), z.astype(np.uint32), z.astype(bool))
