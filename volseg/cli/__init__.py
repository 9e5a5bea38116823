"""The ``volseg`` command line."""

from volseg.cli.main import app, main

__all__ = ["app", "main"]
