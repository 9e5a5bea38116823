"""volseg: 3D instance segmentation of volumetric electron microscopy."""

from volseg.errors import VolsegError

__version__ = "0.1.0"
__all__ = ["VolsegError", "__version__"]
