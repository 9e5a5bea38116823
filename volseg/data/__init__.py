"""Training data: target maps (binary, boundary, distance) and synthetic EM volumes."""

from volseg.data.targets import make_targets

__all__ = ["make_targets"]
