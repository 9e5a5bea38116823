"""Compare trained models fairly: ``compare(entries, out)``.

Several configs (trained now) or finished run directories (collected) are compared on one
``split.json``, with one seed and one number of optimizer steps; runs whose split, validation
regions, seed, steps or metric differ are refused before anything is written. The result is a
folder with ``table.md``, ``table.csv`` and ``curves.png``.

- :mod:`volseg.compare.runs`: read a finished run; check a set of runs is comparable.
- :mod:`volseg.compare.table`: one row per run (parameters, time per epoch, best / final).
- :mod:`volseg.compare.plot`: smoothed curves side by side (raw values faint behind).
- :mod:`volseg.compare.workflow`: train or collect, check, write.
"""

from volseg.compare.workflow import compare

__all__ = ["compare"]
