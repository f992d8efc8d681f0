"""The process settings our workers run with, and helpers that give a serial baseline the same ones.

Allocator:

glibc serves every allocation over 128 KiB with a fresh ``mmap`` and returns it on ``free``, so each
large temporary costs page faults; Dask's Nanny makes it worse by setting ``MALLOC_TRIM_THRESHOLD_`` to
64 KiB, which also freezes the dynamic mmap threshold (task bodies 35–40% slower, measured).
Workers get large thresholds through their environment, read by glibc when the process starts;
:func:`tune_allocator` applies the same settings to a running process, so serial baselines measured
in-process are fair.

Largest blocks: 32 MiB is as high as glibc lets the mmap threshold go, and arrays above it (a 4M-element
float64 activation) still get an ``mmap`` of their own each, returned on ``free``: a wide gradient took
3,700 minor faults and 55–67 ms of system time per 340 ms run (measured). ``MALLOC_MMAP_MAX_=0`` serves
them from the heap too, where the trim threshold keeps their pages (no faults, 5% faster; peak memory the
same); glibc still falls back to ``mmap`` where the heap cannot grow.

Arenas: a Dask worker runs its tasks on a thread of its own, and glibc gives such a thread its own arena,
built of 64 MiB heaps that are handed back to the system as they empty, whatever the thresholds above say
(they govern the main arena). Every task then faults its arrays' pages in again: a looped gradient body
took 25k minor faults and 0.5–1.2 s of system time per 2.5 s run, 0.76 of the same body in a process's
main thread (measured). ``MALLOC_ARENA_MAX=1`` keeps every thread on the main arena (0.98, no faults); a
worker has one task thread, and its event loop's small objects are Python's own (pymalloc), so one
arena's lock is not contended.

BLAS: a worker is one process with one thread, and its BLAS runs on one thread too; a baseline process
whose BLAS uses every core would be timing a different machine. :func:`single_thread_blas` caps the
OpenBLAS that numpy loaded at one thread, after the fact (the environment variables only work before
numpy is imported).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from pathlib import Path

#: 32 MiB: glibc's ceiling for the mmap threshold on 64-bit systems; the trim threshold has none.
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 1024 * 1024 * 1024

#: One BLAS thread per worker (a worker is one process with one thread), and the allocator settings.
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
    "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
    "MALLOC_ARENA_MAX": "1",
    "MALLOC_MMAP_MAX_": "0",
}

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -3, -4, -8  # from glibc's malloc.h


def tune_allocator() -> bool:
    """Raise this process's glibc mmap and trim thresholds, serve even the largest blocks from the heap and
    keep threads started from now on on its main arena; ``False`` (a no-op) where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_MMAP_MAX, 0),
                (_M_ARENA_MAX, 1))
    applied = [bool(mallopt(option, value)) for option, value in settings]  # each, not up to the first refused
    return all(applied)


def single_thread_blas() -> bool:
    """Cap the OpenBLAS numpy uses at one thread; ``False`` where there is none to find (Linux only)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return False
    libraries = {line.split()[-1] for line in maps.read_text().splitlines() if "openblas" in line and ".so" in line}
    for path in libraries:
        lib = ctypes.CDLL(path)
        for symbol in ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_"):
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter.argtypes = [ctypes.c_int]
                setter(1)
                return True
    return False


def like_a_worker() -> None:
    """Give this process a worker's allocator and BLAS settings, so a serial baseline timed here measures
    the same machine the workers run on (the bench's process, the service's)."""
    tune_allocator()
    single_thread_blas()
