"""Decoders: turn predicted maps into instance labels."""

from volseg.decode.cc import cc
from volseg.decode.contour_distance import contour_distance
from volseg.decode.registry import DECODERS, decode
from volseg.decode.watershed import watershed

__all__ = ["DECODERS", "cc", "contour_distance", "decode", "watershed"]
