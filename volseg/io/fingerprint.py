"""A cheap identity of an input's content, so a resumed run can tell that a file it started
from was replaced under the same path.

Resuming an unfinished output is only right when every input is the one the output was
started from. Paths alone cannot say that (training rewrites ``best.pt`` in place; an image or
maps store may be written again at the same path), and hashing terabytes is out of the
question. The fingerprint hashes what changes whenever a file is written:

- a single file (h5, tif, checkpoint): its size and modification time;
- a folder of tif slices: the same for every slice;
- a local zarr node: the text of its metadata documents, and the size and modification time
  of the chunk (or shard) files at the first, middle and last grid position along every axis.

zarr rewrites a chunk by writing a new file and renaming it, so any rewrite of a sampled
chunk, or a copy of the whole store, changes the fingerprint; a rewrite that touches only
unsampled chunks of an unchanged-metadata store does not (a documented limit). URLs and
in-memory stores have no fingerprint (``None``): nothing is compared for them.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path
from typing import Any

from volseg.io.paths import locate

METADATA = ("zarr.json", ".zarray", ".zgroup", ".zattrs")


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


def _arrays(node: Path, depth: int = 3) -> list[Path]:
    """Array folders at or below ``node`` (not into chunk folders), in a stable order."""
    found = []
    if (node / ".zarray").is_file() or '"node_type": "array"' in _read(node / "zarr.json"):
        return [node]
    if depth == 0:
        return found
    for child in sorted(p for p in node.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found += _arrays(child, depth - 1)
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _chunk_files(array_dir: Path) -> list[str]:
    """Keys of the chunk (shard) files at the first, middle and last position of every axis."""
    import zarr

    try:
        array = zarr.open_array(zarr.storage.LocalStore(str(array_dir)), mode="r")
    except Exception:  # unreadable metadata: the metadata text is the fingerprint
        return []
    unit = array.shards or array.chunks
    counts = [max(1, -(-n // u)) for n, u in zip(array.shape, unit, strict=True)]
    picks = [sorted({0, n // 2, n - 1}) for n in counts]
    return [array.metadata.encode_chunk_key(tuple(c)) for c in itertools.product(*picks)]


def _zarr_node(node: Path, sha: Any) -> None:
    for name in METADATA:
        sha.update(name.encode() + _read(node / name).encode())
    for array_dir in _arrays(node):
        sha.update(str(array_dir.relative_to(node)).encode())
        for name in METADATA:
            sha.update(_read(array_dir / name).encode())
        for key in _chunk_files(array_dir):
            sha.update(f"{key}={_stat(array_dir / key)}".encode())


def fingerprint(path_or_url: Any) -> str | None:
    """A short hash of what identifies the content of an input, or None for URLs/stores."""
    if not isinstance(path_or_url, str | os.PathLike):
        return None
    loc = locate(path_or_url)
    if not isinstance(loc.target, Path):
        return None
    sha = hashlib.sha256()
    if loc.fmt == "zarr":
        node = loc.target.joinpath(*loc.key.split("/")) if loc.key else loc.target
        _zarr_node(node, sha)
    elif loc.target.is_dir():  # a folder of tif slices
        for path in sorted(loc.target.iterdir()):
            sha.update(f"{path.name}={_stat(path)}".encode())
    else:
        sha.update(f"{loc.key or ''}={_stat(loc.target)}".encode())
    return sha.hexdigest()[:16]


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """Size and modification time of one file (a checkpoint), hashed."""
    return hashlib.sha256(_stat(Path(path)).encode()).hexdigest()[:16]
