"""Training tests: one torch thread, a tiny synthetic vesicle volume, a tiny config."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.train.helpers import make_volume


@pytest.fixture(scope="session")
def vesicle_zarr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 32 x 64 x 64 synthetic vesicle volume (30 x 8 x 8 nm) with labels."""
    return make_volume(tmp_path_factory.mktemp("data") / "vesicles.zarr")
