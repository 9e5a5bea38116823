"""Networks: a registry of architectures, deep supervision, output activations, summaries.

``build(model_cfg)`` returns a :class:`VolsegNet` for ``model.architecture`` (rsunet,
mednext, monai_basic_unet3d, attention_unet, monai_unet, attention_resunet);
``apply_activations(logits, model_cfg)`` is the one place logits become maps (sigmoid / tanh
per task). The options of every architecture live in :mod:`volseg.models.options`.

The names are imported on first use (PEP 562), so the config schema can read
:mod:`volseg.models.options` without importing torch.
"""

from __future__ import annotations

from volseg._lazy import lazy_exports

_HOME = {
    "Task": "volseg.models.heads",
    "apply_activations": "volseg.models.heads",
    "channel_activations": "volseg.models.heads",
    "parse_tasks": "volseg.models.heads",
    "VolsegNet": "volseg.models.network",
    "ARCHITECTURES": "volseg.models.options",
    "USED_KEYS": "volseg.models.options",
    "build": "volseg.models.registry",
    "num_outputs": "volseg.models.registry",
}

__all__ = sorted(_HOME)


__getattr__, __dir__ = lazy_exports(__name__, _HOME)
