"""Timing for the benchmark scripts: best-of-repeats, so that two timings taken back to back in one run
can be divided (the machines are shared and noisy)."""

from __future__ import annotations

import os
import platform
import time
from typing import Any, Callable

import numpy as np


def best_time(fn: Callable[[], Any], budget: float) -> float:
    """Best per-call time over 5 repeats of a batch sized to take about ``budget / 5`` seconds."""
    fn()
    t0, calls = time.perf_counter(), 0
    while time.perf_counter() - t0 < budget / 10 or calls == 0:
        fn()
        calls += 1
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def machine() -> str:
    """The machine a run reports: processor, cores, Python and numpy versions."""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
            f"numpy {np.__version__}")
