"""Devices, precision and reproducibility: a Lightning ``Fabric`` from the config.

``system.training.num_gpus``: ``-1`` every visible GPU (the CPU when there is none), ``0`` the
CPU, ``n`` exactly ``n`` GPUs (DDP when ``n > 1``). ``optimization.precision``: ``32``, or
``16-mixed`` / ``bf16-mixed`` automatic mixed precision, on GPUs only (CPU autocast is slow and
fp16 on the CPU is not supported; we refuse rather than silently train in another precision).
"""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch

from volseg.errors import VolsegError

PRECISION = {"32": "32-true", "16-mixed": "16-mixed", "bf16-mixed": "bf16-mixed"}


def fabric_options(cfg: Any, *, gpus_available: int | None = None) -> dict[str, Any]:
    """``Fabric`` keyword arguments for a config (accelerator, devices, strategy, precision)."""
    available = torch.cuda.device_count() if gpus_available is None else gpus_available
    wanted = int(cfg.system.training.num_gpus)
    if wanted == -1:
        wanted = available
    if wanted > available:
        raise VolsegError(
            f"`system.training.num_gpus` is {wanted} but {available} GPU(s) are visible; "
            "use -1 for every visible GPU or 0 for the CPU."
        )
    precision = str(cfg.optimization.precision)
    if wanted == 0 and precision != "32":
        raise VolsegError(
            f"`optimization.precision` {precision!r} needs a GPU, but training runs on the CPU; "
            "set optimization.precision='32'."
        )
    if wanted == 0:
        return {"accelerator": "cpu", "devices": 1, "strategy": "auto", "precision": "32-true"}
    strategy = "ddp" if wanted > 1 else "auto"
    return {
        "accelerator": "cuda",
        "devices": wanted,
        "strategy": strategy,
        "precision": PRECISION[precision],
    }


def make_fabric(cfg: Any) -> Any:
    """A launched ``lightning.fabric.Fabric`` for the config."""
    from lightning.fabric import Fabric

    fabric = Fabric(**fabric_options(cfg))
    fabric.launch()
    return fabric


def resolve_seed(seed: int | None) -> int:
    """``seed``, or a fresh random one when None (recorded in the run's config.yaml)."""
    if seed is not None:
        return int(seed)
    return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF


def seed_all(seed: int, *, deterministic: bool) -> None:
    """Seed Python, numpy and torch (all devices); deterministic kernels when asked."""
    from lightning.fabric.utilities.seed import seed_everything

    seed_everything(seed, workers=True, verbose=False)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def rng_state() -> dict[str, Any]:
    """The random states of Python, numpy and torch as checkpoint-safe values."""
    # numpy's legacy global generator is what third-party code (and old augmenters) draw from.
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    version, internal, gauss = random.getstate()
    state = {
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore :func:`rng_state` (CUDA states only when the device count matches)."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["internal"]), py["gauss"]))
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached"]))  # noqa: NPY002
    torch.set_rng_state(state["torch"].to(torch.uint8).cpu())
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.to(torch.uint8).cpu() for s in cuda])
