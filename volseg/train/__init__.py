"""Training: ``fit(cfg)`` with Lightning Fabric, honest validation, a run directory, resume.

See :mod:`volseg.train.fit` for the epoch cycle and :mod:`volseg.train.run_dir` for what a
run directory holds.
"""

from volseg.train.fit import fit
from volseg.train.loop import TrainingStopped

__all__ = ["TrainingStopped", "fit"]
