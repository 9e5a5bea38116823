"""All converters named by :mod:`volseg.config.migrate.rules`, in one namespace."""

from volseg.config.migrate.convert_model import *  # noqa: F403
from volseg.config.migrate.convert_run import *  # noqa: F403
from volseg.config.migrate.convert_test import *  # noqa: F403
from volseg.config.migrate.convert_train import *  # noqa: F403
from volseg.config.migrate.convert_tune import *  # noqa: F403
