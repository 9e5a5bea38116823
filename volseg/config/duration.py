"""``optimization.max_time``: a time budget as seconds or as ``HH:MM:SS`` / ``DD:HH:MM:SS``.

Two spellings, both common on clusters: a number of seconds, or a colon string with three
fields (``HH:MM:SS``, the SLURM ``--time`` form; hours may exceed 23) or four
(``DD:HH:MM:SS``, Lightning's ``max_time``). Minutes and seconds must be below 60, hours below 24
when days are given. Anything else is refused with one sentence; nothing guesses what
``1:30`` means (minutes:seconds for SLURM, hours:minutes for people).
"""

from __future__ import annotations

import math
import re
from typing import Any

from volseg.errors import VolsegError

FORMAT = 'seconds (a number > 0) or a string "HH:MM:SS" or "DD:HH:MM:SS" (e.g. "12:00:00")'
_FIELD = re.compile(r"^\d+$")


def parse_duration(value: Any, *, key: str, where: str) -> float | None:
    """Seconds of a ``max_time``-style value (None stays None).

    Args:
        value: None, a number of seconds, or a ``HH:MM:SS`` / ``DD:HH:MM:SS`` string.
        key: the dotted key, for messages.
        where: the config source, for messages.

    Raises:
        VolsegError: the value has another form, a field out of range, or is not positive.
    """
    if value is None:
        return None
    bad = VolsegError(f"{where}: `{key}` must be {FORMAT}, got {value!r}.")
    if isinstance(value, bool):
        raise bad
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _colon_seconds(value.strip(), bad)
    else:
        raise bad
    if not math.isfinite(seconds) or seconds <= 0:
        raise bad
    return seconds


def _colon_seconds(text: str, bad: VolsegError) -> float:
    fields = text.split(":")
    if len(fields) not in (3, 4) or not all(_FIELD.match(f) for f in fields):
        raise bad
    numbers = [int(f) for f in fields]
    days = numbers[0] if len(numbers) == 4 else 0
    hours, minutes, seconds = numbers[-3:]
    if minutes >= 60 or seconds >= 60 or (len(numbers) == 4 and hours >= 24):
        raise bad
    return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` (with a ``Dd`` prefix past a day) of ``seconds``, rounded to the second."""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock
