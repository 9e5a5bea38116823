"""Pooled features of one named layer, taken with a forward hook.

Only the named module is hooked (an earlier study hooked every module and ran out of memory).
Each forward's output ``(b, C, ...)`` is averaged over its spatial axes at once, so what is kept
per region is one running sum of ``C`` numbers: the feature matrix is ``(n_regions, C)``,
independent of the region's and the window's size.
"""

from __future__ import annotations

import difflib
from typing import Any

import numpy as np

from volseg.errors import VolsegError


def find_layer(model: Any, name: str) -> Any:
    """The module called ``name`` in ``model.named_modules()``; an error naming close names."""
    modules = dict(model.named_modules())
    if name and name in modules:
        return modules[name]
    close = difflib.get_close_matches(name, [n for n in modules if n], n=3)
    some = ", ".join([n for n in modules if n.count(".") >= 1][:4])
    hint = f"did you mean {', '.join(close)}?" if close else f"names such as {some}."
    raise VolsegError(f"--feature-layer {name!r} is not a layer of the model; {hint}")


class PooledFeatures:
    """A forward hook on one module summing its spatially averaged outputs until :meth:`take`."""

    def __init__(self, module: Any) -> None:
        self._sum: np.ndarray | None = None
        self._count = 0
        self._handle = module.register_forward_hook(self._hook)

    def _hook(self, _module: Any, _inputs: Any, output: Any) -> None:
        if isinstance(output, list | tuple):
            output = output[0]
        pooled = output.detach().float().flatten(2).mean(dim=2).sum(dim=0)  # (C,)
        pooled = pooled.cpu().numpy().astype(np.float64)
        self._sum = pooled if self._sum is None else self._sum + pooled
        self._count += int(output.shape[0])

    def take(self) -> np.ndarray:
        """The mean pooled vector since the last call (float32 ``(C,)``); resets."""
        if self._sum is None:
            raise VolsegError("the feature layer never ran during the region's prediction.")
        vector = (self._sum / self._count).astype(np.float32)
        self._sum, self._count = None, 0
        return vector

    def remove(self) -> None:
        self._handle.remove()
