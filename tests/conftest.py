"""Fixtures for every test."""

import sys

import pytest


@pytest.fixture(autouse=True)
def _torch_single_thread():
    """Tests that use torch run on one thread with a fixed seed (small and deterministic).

    torch is imported by the test modules that need it; the others never pay for it.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)
