"""Networks: a registry of architectures, deep supervision, output activations, summaries.

``build(model_cfg)`` returns a :class:`VolsegNet` for ``model.architecture`` (rsunet,
mednext, monai_basic_unet3d, attention_unet, monai_unet); ``apply_activations(logits,
model_cfg)`` is the one place logits become maps (sigmoid / tanh per task).
"""

from volseg.models.heads import Task, apply_activations, channel_activations, parse_tasks
from volseg.models.network import VolsegNet
from volseg.models.registry import ARCHITECTURES, USED_KEYS, build, num_outputs

__all__ = [
    "ARCHITECTURES",
    "USED_KEYS",
    "Task",
    "VolsegNet",
    "apply_activations",
    "build",
    "channel_activations",
    "num_outputs",
    "parse_tasks",
]
