"""Progress bars for long loops (windows predicted, blocks run, sweep settings tried).

One call, :func:`track`, gives a :class:`Tracker` whose :meth:`Tracker.advance` a loop calls
once per real unit of work. The bar is drawn with rich on stderr only when stderr is a
terminal and bars are not switched off (``volseg -q`` does that through :func:`set_enabled`);
otherwise the tracker only counts, so logs and pipes get no control characters. Bars opened
while another is showing (a segment's predict and decode) stack in the same display.
Trackers are thread-safe: block tasks finishing on a pool's threads may advance them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.RLock()
_enabled: bool | None = None  # None: decide by whether stderr is a terminal
_display: Any = None  # the rich Progress shown now, shared by nested trackers
_open = 0  # trackers using _display


def set_enabled(flag: bool | None) -> None:
    """Force bars on (True) or off (False); None restores the default (on for a terminal)."""
    global _enabled
    _enabled = flag


def enabled() -> bool:
    """Whether a new tracker draws a bar."""
    if _enabled is not None:
        return _enabled
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class Tracker:
    """Counts units of work done out of ``total`` (None: unknown), drawing a bar if shown."""

    def __init__(self, description: str, total: int | None, display: Any = None) -> None:
        self.description = description
        self.total = total
        self.completed = 0
        self._display = display
        self._task = None if display is None else display.add_task(description, total=total)

    @property
    def shown(self) -> bool:
        return self._display is not None

    def advance(self, n: int = 1) -> None:
        with _lock:
            self.completed += int(n)
            if self._display is not None:
                self._display.update(self._task, completed=self.completed)

    def _close(self) -> None:
        if self._display is not None:
            self._display.remove_task(self._task)


def _new_display() -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@contextmanager
def track(description: str, total: int | None) -> Iterator[Tracker]:
    """A :class:`Tracker` for one loop; the bar (if any) disappears when the loop ends."""
    global _display, _open
    with _lock:
        show = enabled()
        if show and _display is None:
            _display = _new_display()
            _display.start()
        if show:
            _open += 1
        tracker = Tracker(description, total, _display if show else None)
    try:
        yield tracker
    finally:
        with _lock:
            tracker._close()
            if show:
                _open -= 1
                if _open == 0 and _display is not None:
                    _display.stop()
                    _display = None
