"""Tell a PyTorch Connectomics config from a volseg one by keys only volseg lacks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Top-level keys of PyTC files (2025 tutorials, their presets, 2026 stages) volseg never uses.
PYTC_TOP = {
    "base_config": "`base_config` includes",
    "default": "the 2026 `default`/`train`/`test` stage layout",
    "train": "the 2026 `default`/`train`/`test` stage layout",
    "save_path": "`save_path`",
    "tuning": "an Optuna `tuning` block",
    "params": "a Slurm-launcher `params` sweep",
    "postprocess": "a `postprocess` block",
    "optimizer": "a top-level `optimizer` block",
    "scheduler": "a top-level `scheduler` block",
    "training": "a top-level `training` block",
    "checkpoint": "a top-level `checkpoint` block",
    "cluster": "a `cluster` block",
}
#: Nested keys only PyTC has (dotted), with how to name them in the message.
PYTC_NESTED = (
    "system.num_gpus",
    "system.num_cpus",
    "system.inference.num_workers",
    "system.inference.batch_size",
    "inference.data",
    "inference.decoding",
    "inference.postprocessing",
    "inference.evaluation",
    "tune.parameter_space",
    "tune.n_trials",
    "model.rsunet_norm",
    "model.mednext_dim",
    "data.use_preloaded_cache",
    "data.augmentation.rotate",
    "data.augmentation.transforms",
    "monitor.logging.scalar",
    "monitor.detect_anomaly",
)


def _has(raw: Mapping[str, Any], dotted: str) -> bool:
    node: Any = raw
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def pytc_reason(raw: Any) -> str | None:
    """Why ``raw`` (a parsed YAML document) looks like a PyTC config, or None.

    Args:
        raw: the parsed document.

    Returns:
        A short phrase naming a PyTC-only key (``"`base_config` includes"``), or None when the
        document has none of them.
    """
    if not isinstance(raw, Mapping):
        return None
    for key, why in PYTC_TOP.items():
        if key in raw:
            return why
    if isinstance(raw.get("model"), Mapping) and isinstance(
        raw["model"].get("loss_balancing"), Mapping
    ):
        return "`model.loss_balancing` as a mapping"
    for dotted in PYTC_NESTED:
        if _has(raw, dotted):
            return f"`{dotted}`"
    return None


def pointer(shown: str, reason: str) -> str:
    """The one sentence ``fit``/``config check`` print for a PyTC file."""
    return (
        f"{shown} is a PyTorch Connectomics config (it has {reason}), not a volseg one; "
        f"convert it with `volseg config migrate {shown} OUT.yaml`."
    )
