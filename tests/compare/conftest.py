"""A tiny volume and one comparison of two tiny configs trained by ``compare`` (4 steps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compare.helpers import write_configs
from tests.train.helpers import make_volume


@pytest.fixture(scope="session")
def compare_volume(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 32 x 64 x 64 synthetic vesicle volume with labels."""
    return make_volume(tmp_path_factory.mktemp("data") / "vesicles.zarr")


@pytest.fixture(scope="session")
def compared(compare_volume: Path, tmp_path_factory: pytest.TempPathFactory):
    """``(out, configs, run directories, notes)`` of ``compare`` training rsunet and
    attention_unet configs for 4 steps on one split."""
    import torch

    from volseg.compare import compare

    folder = tmp_path_factory.mktemp("compare")
    configs = write_configs(compare_volume, folder)
    notes: list[str] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = compare(configs, folder / "out", steps=4, run_root=folder / "runs", echo=notes.append)
    finally:
        torch.set_num_threads(threads)
    runs = [Path(n.split(" -> ")[1]) for n in notes if " -> " in n]
    return out, configs, runs, notes
