"""Single-level h5 and tif writers for interop with other tools.

h5: ``file.h5:key`` gets a gzip-compressed chunked dataset with ``resolution_nm_zyx``,
``offset_nm_zyx`` and a ``volseg`` JSON attribute. A new file is written under a temporary name
and renamed; a dataset added to an existing file is written under a temporary name inside the
file and renamed (``move``) on success. tif: one multi-page file whose JSON description carries
the voxel size (``voxel_size_nm``), offset and ``volseg`` attributes, staged and renamed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from volseg.atomic import staged
from volseg.errors import VolsegError
from volseg.io.blocks import block_shape, iter_blocks
from volseg.io.guard import check_replaceable
from volseg.io.read_h5 import open_h5_file
from volseg.io.source import Source
from volseg.io.volume import Triple


def _fill_dataset(src: Source, dataset: Any) -> None:
    block = block_shape(
        src.shape, dataset.chunks, itemsize=src.dtype.itemsize, target_bytes=64 * 2**20
    )
    for region in iter_blocks(src.shape, block):
        dataset[region] = src.convert(np.asarray(src.data[region]))


def _create(group: Any, name: str, src: Source, chunks: tuple[int, ...], meta: dict) -> Any:
    dataset = group.create_dataset(
        name,
        shape=src.shape,
        dtype=src.dtype,
        chunks=chunks,
        compression="gzip",
        compression_opts=4,
        shuffle=True,
    )
    for attr, value in meta.items():
        dataset.attrs[attr] = value
    _fill_dataset(src, dataset)
    return dataset


def write_h5(
    path: Path,
    key: str | None,
    src: Source,
    *,
    voxel_size: Triple,
    offset: Triple,
    chunks: tuple[int, ...],
    attrs: dict[str, Any],
    overwrite: bool,
) -> None:
    """Write ``src`` to the dataset ``path:key`` (see the module docstring)."""
    if not key:
        raise VolsegError(f"h5 output {path} needs a dataset key, e.g. {path}:raw.")
    meta = {
        "resolution_nm_zyx": np.asarray(voxel_size, np.float64),
        "offset_nm_zyx": np.asarray(offset, np.float64),
        "volseg": json.dumps({**attrs, "kind": src.kind}),
    }
    if not path.exists():
        import h5py

        with staged(path, overwrite=False, what=f"{path}:{key}") as tmp:
            with h5py.File(tmp, "w") as handle:
                _create(handle, key, src, chunks, meta)
        return
    if overwrite:
        check_replaceable(path, kind=src.kind, key=key)
    with open_h5_file(path, "r+") as handle:
        if key in handle and not overwrite:
            raise VolsegError(f"{path}:{key} already exists; use --overwrite to replace it.")
        parent, _, name = key.rpartition("/")
        group = handle.require_group(parent) if parent else handle
        tmp = f".volseg-tmp-{name}-{uuid.uuid4().hex[:12]}"
        try:
            _create(group, tmp, src, chunks, meta)
        except BaseException:
            if tmp in group:
                del group[tmp]
            raise
        if name in group:
            del group[name]
        group.move(tmp, name)


def _pages(src: Source) -> Iterator[np.ndarray]:
    lead = src.shape[:-2]
    for index in np.ndindex(*lead):
        yield src.convert(np.asarray(src.data[index]))


def write_tif(
    path: Path,
    src: Source,
    *,
    voxel_size: Triple,
    offset: Triple,
    attrs: dict[str, Any],
    overwrite: bool,
) -> None:
    """Write ``src`` as one multi-page tif, page by page (see the module docstring)."""
    import tifffile

    axes = "CZYX" if src.kind == "maps" else "ZYX"
    metadata = {
        "axes": axes,
        "voxel_size_nm": list(voxel_size),
        "offset_nm": list(offset),
        "volseg": {**attrs, "kind": src.kind},
    }
    nbytes = int(np.prod(src.shape)) * src.dtype.itemsize
    if overwrite:
        check_replaceable(path)
    with staged(path, overwrite=overwrite) as tmp:
        tifffile.imwrite(
            tmp,
            data=_pages(src),
            shape=src.shape,
            dtype=src.dtype,
            photometric="minisblack",
            metadata=metadata,
            bigtiff=nbytes > 2**31,
        )
