"""The process-wide switches a fold needs, set once where a call enters catterms: :func:`boundary`.

Folding a deep term needs two switches that belong to the whole process, not to a fold: Python's
recursion limit (:func:`headroom`) and its cycle collector (:func:`gc_paused`). The library's folds set
neither; they assume they run inside a boundary. The entry points that fold are boundaries: ``ct.compile``,
``ct.scan`` and the other loops, ``ct.infer``/``ct.cost``, ``program`` and ``split``, the derivative terms
(``ct.grad_term`` and its kin), ``checked``, ``ct.pretty``; so is a compiled program that runs a loop
(:mod:`catterms.compiler`). A cached entry point is a boundary *inside* its cache: a hit folds nothing and
touches no switch. ``ct.grad``, ``ct.evaluate`` and their kin (:mod:`catterms.api`) are not boundaries
themselves: everything they fold or run at length happens inside one of those, and a call on a cached
term then costs no switch at all (a boundary around them measured over 1 µs on a 10 µs call).

Thread safety: both switches are shared by every thread. The recursion limit is only ever raised, and
compared and raised under a lock, so a thread never lowers what another has just raised it to. The
collector's pauses are counted under a lock: it stays off until the last pause in any thread ends, and
then comes back on only if the first found it on. Whether a thread is inside a boundary is the thread's
own (a ``threading.local``), so a nested entry skips the collector's lock.
"""

from __future__ import annotations

import functools
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from .category import postorder
from .terms import Term

P = ParamSpec("P")
R = TypeVar("R")

_limit_lock = threading.Lock()


def headroom(term: Term) -> None:
    """Let Python recurse as deep as the closures built for ``term`` need.

    Interpretations are nested closures, a few Python frames per level of nesting; and a tangent carried
    through environments (each a fork) is forced through each one it crossed — as many as the term has
    nodes, whatever its depth (a long composition is shallow). Since 3.11 Python-to-Python calls do not use
    the C stack, so raising the limit is safe. It is only ever raised, and process-wide: the comparison and
    the raise happen under a lock, so that a thread that needs less never sets the limit below what another
    thread has just raised it to.
    """
    need = 10 * term.depth + 8 * _nodes(term) + 1000
    with _limit_lock:
        if sys.getrecursionlimit() < need:
            sys.setrecursionlimit(need)


#: Up to this many nodes counted with repeats (``Term.size``, known at construction), a term's count of
#: distinct nodes is taken to be that: a bound that costs no walk (a job's first entry, its type check,
#: would otherwise walk its whole term for this alone). A larger term is walked: a DAG may have far more
#: paths than nodes. The bound is kept small because the limit is process-wide and never lowered: at 2^20 a
#: random test DAG of a few thousand nodes raised it to 2.4 million, where C-level recursion (repr, pickle,
#: comparisons of nested tuples) overflows the C stack instead of raising RecursionError; at 2^17 a limit
#: raised without a walk is at most what a 131,072-node term needs anyway (a 100,000-node job still walks
#: nothing: its walk took 60–180 ms).
COUNTED = 1 << 17


def _nodes(term: Term) -> int:
    """A bound on the number of distinct nodes of ``term``: at most :data:`COUNTED`, or exact."""
    return term.size if term.size <= COUNTED else len(postorder(term)[0])


#: Pauses in progress, in every thread, and whether the first found the collector on (under ``_gc_lock``).
_gc_pauses = 0
_gc_was_on = False
_gc_lock = threading.Lock()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off for the duration: folding a term allocates a few objects per node
    and frees none, so the collector's full scans, triggered by allocation counts, would make a fold of
    n nodes cost O(n²) (three quarters of a 30,000-node type check). Folds create no cycles to collect.

    The switch is process-wide, so pauses are counted under a lock: nested pauses, and pauses in several
    threads at once (the service compiles on several), keep the collector off until the last one ends,
    which turns it back on only if the first found it on (a caller that disabled it keeps it off)."""
    global _gc_pauses, _gc_was_on
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_on = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_on:
                gc.enable()


class _Inside(threading.local):
    """Whether this thread is inside a boundary."""

    now = False


_inside = _Inside()


def boundary(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` as an entry point: the collector paused for the whole call (:func:`gc_paused`), and the
    recursion limit raised for the term it is given, its first argument when that is a :class:`Term`
    (:func:`headroom`, once the collector is off: the walk it may need is a fold's).

    Re-entrant: a boundary entered inside another leaves the collector to the outer one, and only raises the
    limit for its own term — a term made inside the outer call (a function compiled, a derivative term) is
    not the one the outer boundary was given. What the call allocated and dropped is freed before the
    collector resumes, so the collector never scans it."""

    @functools.wraps(fn)
    def entry(*args: P.args, **kwargs: P.kwargs) -> R:
        if _inside.now:
            return _entered(fn, args, kwargs)
        _inside.now = True
        try:
            with gc_paused():
                return _entered(fn, args, kwargs)
        finally:
            _inside.now = False

    return entry


def _entered(fn: Callable[..., R], args: tuple, kwargs: dict) -> R:
    """``fn``'s call inside a boundary, with the recursion limit raised for its term (if it is given one)."""
    if args and isinstance(args[0], Term):
        headroom(args[0])
    return fn(*args, **kwargs)
