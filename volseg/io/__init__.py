"""Lazy chunked volume IO: h5, zarr / OME-Zarr and tif in; OME-Zarr 0.5, h5 and tif out.

Everything is ``(z, y, x)`` (maps ``(c, z, y, x)``) with voxel size and offset in nanometres,
carried by a :class:`Volume`. Nothing reads a whole volume unless asked to.
"""

from volseg.io.checked import write_every_chunk
from volseg.io.checks import check_labels, check_raw, check_same_shape
from volseg.io.open import open_volume
from volseg.io.volume import Volume, as_triple
from volseg.io.write import create_volume, is_complete, mark_complete, write_volume

write_every_chunk()  # volseg's zarr outputs hold every chunk: a missing one means damage

__all__ = [
    "Volume",
    "as_triple",
    "check_labels",
    "check_raw",
    "check_same_shape",
    "create_volume",
    "is_complete",
    "mark_complete",
    "open_volume",
    "write_volume",
]
