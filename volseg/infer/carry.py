"""Where a streamed prediction keeps the sums its windows add to blocks not yet finished.

Streaming in raster order leaves, at any moment, a band of partial sums between finished and
unfinished blocks whose size grows with the volume's cross-section. :class:`CarryStore` keeps
those pieces in memory up to ``budget_bytes`` and writes further ones to ``.npy`` files in a
temporary directory, so the process's memory stays bounded for any volume size.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from volseg.geometry import Slices, Triple

Region = Slices
Key = Triple  # a block of whole windows (volseg.infer.grid.WindowBlocks)

DEFAULT_BUDGET = 64 * 2**20


class CarryStore:
    """Pieces of partial sums waiting for their block.

    Args:
        budget_bytes: bytes kept in memory before pieces go to disk.
        spill_dir: parent of the temporary directory for spilled pieces (default: the system's
            temporary directory).
    """

    def __init__(
        self, *, budget_bytes: int = DEFAULT_BUDGET, spill_dir: str | Path | None = None
    ) -> None:
        self.budget_bytes = int(budget_bytes)
        self.spill_dir = spill_dir
        self._pieces: dict[Key, list[tuple[Region, Any]]] = defaultdict(list)
        self._tmp: Path | None = None
        self._count = 0
        self.memory_bytes = 0
        self.peak_memory_bytes = 0
        self.spilled_bytes = 0

    def put(self, key: Key, region: Region, array: np.ndarray) -> None:
        """Keep ``array`` (covering ``region``) for block ``key``."""
        array = np.array(array, dtype=np.float32, copy=True)
        if self.memory_bytes + array.nbytes <= self.budget_bytes:
            self.memory_bytes += array.nbytes
            self.peak_memory_bytes = max(self.peak_memory_bytes, self.memory_bytes)
            self._pieces[key].append((region, array))
            return
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="volseg-carry-", dir=self.spill_dir))
        path = self._tmp / f"{self._count}.npy"
        self._count += 1
        np.save(path, array)
        self.spilled_bytes += array.nbytes
        self._pieces[key].append((region, path))

    def pop(self, key: Key) -> list[tuple[Region, np.ndarray]]:
        """Every piece waiting for block ``key`` (removed from the store)."""
        out = []
        for region, item in self._pieces.pop(key, []):
            if isinstance(item, Path):
                out.append((region, np.load(item)))
                item.unlink()
            else:
                self.memory_bytes -= item.nbytes
                out.append((region, item))
        return out

    def __len__(self) -> int:
        return sum(len(v) for v in self._pieces.values())

    def close(self) -> None:
        """Drop every piece and remove the spill directory."""
        self._pieces.clear()
        self.memory_bytes = 0
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> CarryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
