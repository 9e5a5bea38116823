"""The one exception type that means "the user gave bad input"."""


class VolsegError(ValueError):
    """Bad input or an impossible request, explained in one sentence.

    The CLI prints the message (no traceback unless ``--debug``) and exits with code 2.
    Library callers can catch it like any ``ValueError``.
    """
