"""npe2 sample data: small synthetic vesicles (with maps), and the Lucchi++ crop.

The vesicle sample carries everything the re-decode widget needs: ``raw``, ``gt``, the
``pred/*`` maps (ground-truth targets blurred and noised, since no trained network ships with
volseg), a ``seg`` decoded from them and its ``errors``.
The Lucchi++ sample is the real FIB-SEM crop of ``../shared/data`` beside the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from volseg.errors import VolsegError
from volseg.napari.discover import Found, Item
from volseg.napari.layers import LayerData, build_layers

VESICLE_SHAPE = (24, 112, 112)
VESICLE_VOXEL_SIZE = (30.0, 8.0, 8.0)
# Decoder settings near the best of a `volseg demo` sweep on such maps (smaller seeds for the
# smaller volume); the seg layer uses them and the widget starts from them.
VESICLE_PARAMS = {
    "binary_threshold": (0.6, 0.3),
    "contour_threshold": (0.8, None),
    "distance_threshold": (0.3, -0.6),
    "min_seed_size": 8,
    "min_instance_size": 0,
}
TARGETS = [
    {"name": "binary", "kwargs": {}},
    {"name": "instance_boundary", "kwargs": {"thickness": 1, "edge_mode": "seg-all"}},
    {"name": "instance_edt", "kwargs": {"mode": "3d"}},
]
CHANNELS = ["binary", "boundary", "distance"]
LUCCHI = Path("lucchi_pp_crops") / "train_crop.h5"
LUCCHI_VOXEL_SIZE = (5.0, 5.0, 5.0)


def shared_data_dir() -> Path:
    """``<repository>/../shared/data`` of the checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _item(role: str, data: np.ndarray, voxel_size, source: str, attrs=None) -> Item:
    return Item(role, (data,), tuple(voxel_size), (0.0, 0.0, 0.0), source, dict(attrs or {}))


def degrade(maps: np.ndarray, *, seed: int, sigma: float = 1.0, noise: float = 0.08) -> np.ndarray:
    """Stand-in for a network's output: blur each map (half as much in z) and add noise."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    out = np.empty_like(maps)
    for c in range(maps.shape[0]):
        blurred = ndimage.gaussian_filter(maps[c], sigma=(0.5 * sigma, sigma, sigma))
        out[c] = blurred + rng.normal(0.0, noise, blurred.shape).astype(np.float32)
    out[:2] = np.clip(out[:2], 0.0, 1.0)
    out[2] = np.clip(out[2], -1.0, 1.0)
    return out


def vesicle_items(*, shape=VESICLE_SHAPE, seed: int = 0) -> Found:
    """The synthetic vesicle sample as discovered items (see the module docstring)."""
    from volseg.data.synth import vesicles
    from volseg.data.targets import make_targets
    from volseg.decode import contour_distance
    from volseg.maps import describe

    raw, gt, _ = vesicles(shape=shape, voxel_size=VESICLE_VOXEL_SIZE, seed=seed)
    maps = degrade(make_targets(gt, VESICLE_VOXEL_SIZE, TARGETS), seed=seed + 1)
    seg = contour_distance(maps, **VESICLE_PARAMS)
    source = f"volseg synthetic vesicles (seed {seed})"
    items = [
        _item("raw", raw, VESICLE_VOXEL_SIZE, source),
        _item("maps", maps, VESICLE_VOXEL_SIZE, source, describe(CHANNELS)),
        _item("gt", gt, VESICLE_VOXEL_SIZE, source),
        _item("seg", seg, VESICLE_VOXEL_SIZE, source),
    ]
    thresholds = {"decoder": "contour_distance", "params": dict(VESICLE_PARAMS), "path": None}
    return Found(items, thresholds=thresholds)


def vesicles_sample() -> list[LayerData]:
    """npe2 sample: synthetic vesicles with maps, segmentation and errors."""
    return build_layers(vesicle_items())


def lucchi_sample(data_dir: str | Path | None = None) -> list[LayerData]:
    """npe2 sample: the Lucchi++ training crop (raw and mitochondria instances as ``gt``).

    Raises:
        VolsegError: the crop is not at ``<repository>/../shared/data`` (or ``data_dir``).
    """
    from volseg.io import open_volume

    path = (Path(data_dir) if data_dir is not None else shared_data_dir()) / LUCCHI
    if not path.is_file():
        raise VolsegError(
            f"the Lucchi++ crop is not at {path.resolve()}; it ships in shared/data beside the "
            "volseg checkout."
        )
    with open_volume(f"{path}:raw", voxel_size=LUCCHI_VOXEL_SIZE) as vol:
        raw = vol.numpy()
    with open_volume(f"{path}:instances", voxel_size=LUCCHI_VOXEL_SIZE) as vol:
        gt = vol.numpy().astype(np.uint32)
    items = [
        _item("raw", raw, LUCCHI_VOXEL_SIZE, str(path)),
        _item("gt", gt, LUCCHI_VOXEL_SIZE, f"{path}:instances"),
    ]
    return build_layers(Found(items))
