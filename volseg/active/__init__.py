"""Active learning: rank blocks of an unlabelled pool for annotation (``volseg active``).

- :mod:`volseg.active.regions`: the pool tiled into regions of a set size.
- :mod:`volseg.active.acquisition`: region scores (pure functions) and k-center selection.
- :mod:`volseg.active.features`: pooled features of one named layer via a forward hook.
- :mod:`volseg.active.rank`: the ranking workflow and its JSON / napari-shapes outputs.
"""

from volseg.active.acquisition import STRATEGIES

__all__ = ["STRATEGIES"]
