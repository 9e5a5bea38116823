"""A ``volseg active`` ranking as a napari shapes layer (no Qt).

One rectangle per region on its central z-slice, in rank order, with ``rank`` and ``score`` as
features and the rank as its text, so the annotator works down the list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

LayerData = tuple[Any, dict[str, Any], str]


def ranking_layer(
    ranking: Sequence[dict[str, Any]] | str | os.PathLike[str],
    *,
    scale: Sequence[float] = (1.0, 1.0, 1.0),
    translate: Sequence[float] = (0.0, 0.0, 0.0),
) -> LayerData:
    """``(data, kwargs, "shapes")`` of a ranking (records or the path of ``ranked.json``);
    vertices in voxels of the pool, ``scale``/``translate`` as the pool's image layer."""
    if not isinstance(ranking, Sequence) or isinstance(ranking, str):
        with open(ranking, encoding="utf-8") as f:
            ranking = json.load(f)
    from volseg.active.regions import rectangle

    data = [np.array(rectangle(rec), dtype=float) for rec in ranking]
    strategy = ranking[0]["strategy"] if ranking else "ranking"
    kwargs = {
        "name": f"active: {strategy}",
        "shape_type": "rectangle",
        "features": {"rank": [r["rank"] for r in ranking], "score": [r["score"] for r in ranking]},
        "text": {"string": "{rank}", "size": 10},
        "edge_color": "yellow",
        "face_color": "transparent",
        "scale": tuple(scale),
        "translate": tuple(translate),
    }
    return data, kwargs, "shapes"
