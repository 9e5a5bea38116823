"""Shared benchmark helpers: best-of-N timing, peak memory, result rows, table and JSON output.

Timing uses ``time.perf_counter`` after one warm-up call (JIT compilation and caches excluded).
Peak memory is measured in a separate, untimed call by sampling the process's resident set size
(``/proc/self/statm``) from a background thread, so it covers numpy, numba and C-extension
allocations alike; elsewhere it falls back to ``tracemalloc`` (Python/numpy allocations only).
Benchmarks that measure memory call :func:`pin_mmap_threshold` first: on glibc it pins the mmap
threshold at 128 KiB, since otherwise glibc raises it after the first large free, later large
arrays come from the heap and stay resident, and a second call would show no growth at all.
The pin makes every large allocation a fresh mapping (page faults), so it slows allocation-heavy
code such as training: ``benchmarks/train.py`` does not pin.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import platform
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATM = Path("/proc/self/statm")
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_M_MMAP_THRESHOLD = -3


def pin_mmap_threshold() -> None:
    """Make peak-memory readings repeatable (see the module docstring); once, before timing."""
    name = ctypes.util.find_library("c")
    if not STATM.exists() or name is None:
        return
    try:
        ctypes.CDLL(name).mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):  # not glibc
        pass


def best_of(fn: Callable[[], Any], repeats: int, *, warmup: bool = True) -> tuple[float, Any]:
    """Best wall time in seconds of ``repeats`` calls (after one warm-up call) and a result."""
    result = fn() if warmup else None
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _rss_bytes() -> int:
    return int(STATM.read_text().split()[1]) * PAGE


def peak_memory_mb(fn: Callable[[], Any], *, interval: float = 0.001) -> float:
    """Peak extra memory (MB) used while ``fn()`` runs, above what was resident before."""
    if not STATM.exists():
        tracemalloc.start()
        try:
            fn()
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    baseline = _rss_bytes()
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_bytes())
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        peak = max(peak, _rss_bytes())
        done.set()
        sampler.join()
    return max(0, peak - baseline) / 2**20


@dataclass
class Row:
    """One benchmark line: volseg beside its reference, measured in the same run."""

    name: str
    volseg_s: float
    reference_s: float | None
    reference: str
    peak_mb: float
    agree: str
    bar: float | None = None  # required speed-up, if this row carries a bar
    passed: bool = True  # agreement check (and nothing else) passed
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """reference time / volseg time (> 1: volseg is faster)."""
        return None if not self.reference_s else self.reference_s / self.volseg_s

    @property
    def bar_met(self) -> bool | None:
        return None if self.bar is None or self.ratio is None else self.ratio >= self.bar


def print_table(title: str, rows: list[Row]) -> None:
    """Print rows as a table (name, volseg s, reference s, ratio, peak MB, agree, bar)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("name", "volseg s", "reference s", "ratio", "peak MB", "agree", "bar"):
        table.add_column(col, justify="left" if col in ("name", "agree") else "right")
    for r in rows:
        ref = "" if r.reference_s is None else f"{r.reference_s:.3f}"
        ratio = "" if r.ratio is None else f"{r.ratio:.1f}x"
        bar = "" if r.bar is None else f">= {r.bar:g}x " + ("met" if r.bar_met else "NOT met")
        table.add_row(r.name, f"{r.volseg_s:.3f}", ref, ratio, f"{r.peak_mb:.0f}", r.agree, bar)
    Console(width=160).print(table)


def write_json(path: Path, title: str, rows: list[Row], extra: dict[str, Any]) -> None:
    """Write the rows (with ratios and bar verdicts) and run metadata as JSON."""
    payload = {
        "title": title,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "cpus": os.cpu_count(),
        **extra,
        "rows": [{**asdict(r), "ratio": r.ratio, "bar_met": r.bar_met} for r in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def parser(description: str) -> argparse.ArgumentParser:
    """Argument parser with the common ``--repeats`` and ``--json`` options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--repeats", type=int, default=3, help="timed runs per call (best kept)")
    p.add_argument("--json", type=Path, default=None, help="also write results to this file")
    return p
