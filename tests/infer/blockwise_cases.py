"""The NeuroProof oracle settings of issue 13, shared by the real-data blockwise tests and
``benchmarks/blockwise.py`` (one copy, checked against the tutorial by the tests)."""

from pathlib import Path

NEUROPROOF = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    / "neuroproof_training_sample2" / "volume.h5"
)  # fmt: skip
BOTH_SIDES = [
    {"name": "binary"},
    {"name": "instance_boundary", "kwargs": {"edge_mode": "seg-all"}},
    {"name": "instance_edt"},
]
TUTORIAL_TARGETS = [  # tutorials/neuroproof-neurons.yaml, data.label_transform
    {"name": "binary"},
    {"name": "instance_boundary",
     "kwargs": {"thickness": 1, "edge_mode": "seg-all", "mode_2d": False, "connectivity": 6}},
]  # fmt: skip
HYDRA = {
    "binary_threshold": (0.9, 0.85), "contour_threshold": (0.8, None),
    "distance_threshold": (0.5, 0.0), "min_seed_size": 32,
}  # fmt: skip
TUTORIAL = {  # tutorials/neuroproof-neurons.yaml, test.decoding
    "channels": (0, 1, None), "binary_threshold": (0.5, 0.5), "contour_threshold": (0.3, None),
    "distance_threshold": None, "contour_ridge": True, "min_seed_size": 20,
    "min_instance_size": 100, "connectivity": 6, "seed_connectivity": 18,
}  # fmt: skip
WATERSHED = {"channel": 2, "threshold": 0.5, "mask_threshold": 0.0, "min_seed_size": 32}
SETTINGS = {
    "hydra-lv": (BOTH_SIDES, "contour_distance", HYDRA),
    "tutorial": (TUTORIAL_TARGETS, "contour_distance", TUTORIAL),
    "watershed": (BOTH_SIDES, "watershed", WATERSHED),
}
