"""Task bodies: what a worker runs for one step of a plan.

A body gathers its input from its arguments (the outputs of the tasks its wire names, the job's input
arrays, constants), then runs the step's subterm with catterms' compiled value
(:func:`catterms.engine.program`): every mode is the value of a term (:mod:`workers.plan`), so a task
computes exactly what the in-process interpreter computes for that subterm. A failure is re-raised as a
catterms error that adds the step's path in the whole term to catterms' own message, which names the
failing primitive inside the step.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
from dask.sizeof import sizeof

from catterms import Array, CattermsError, EvaluationError, Term, Type
from catterms.engine import cached, constant_bytes, program, trees, zeros
from catterms.modes import Mode

from .wires import Lit, Ref, Unused, Wire, Zero


class Slot:
    """Argument ``arg`` of the task, at ``path`` inside it."""

    __slots__ = ("arg", "path")

    def __init__(self, arg: int, path: tuple[int, ...]) -> None:
        self.arg, self.path = arg, path


Spec = Slot | Lit | Zero | tuple


def gather(spec: Spec, args: tuple) -> Any:
    """The value ``spec`` describes: arrays picked from the arguments, constants and zeros."""
    return trees.map(lambda w: trees.pick(args[w.arg], w.path) if isinstance(w, Slot) else constant(w), spec)


def read(wire: Wire, source: Callable[[int], Any]) -> Any:
    """The value ``wire`` describes, ``source(i)`` being the value of step ``i`` (or of the job's input,
    ``INPUT``): how the Executor assembles a result, and how a plan is evaluated in-process."""
    return trees.map(lambda w: trees.pick(source(w.source), w.path) if isinstance(w, Ref) else constant(w), wire)


def constant(w: Lit | Zero) -> Any:
    """The array a leaf that reads nothing stands for: a constant, a zero, or an unread placeholder."""
    if isinstance(w, Lit):
        return w.value
    return placeholder(w.type) if isinstance(w, Unused) else zeros(w.type)


def placeholder(ty: Array) -> np.ndarray:
    """A read-only zero of type ``ty`` that allocates nothing, for arrays the subterm does not read."""
    return np.broadcast_to(np.zeros((), ty.dtype), ty.shape)


class Body(ABC):
    """How a step runs: its input type, how to gather its input, and (subclasses) what to compute.

    The step's subterm is the task's first argument, not part of the body: embedded when it is small,
    a future when it carries big constants — shipped once by the Executor, kept on a worker and
    reused by every job that runs the same subterm.
    """

    def __init__(self, dom: Type, spec: Spec, where: str) -> None:
        self.dom, self.spec, self.where = dom, spec, where

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where})"

    def __dask_tokenize__(self) -> tuple:
        # a body belongs to one job's graph: its identity is token enough, where Dask would otherwise
        # pickle it (and the specs inside) on every submission just to name the graph
        return type(self).__name__, id(self)

    def __call__(self, term: Term, *args: Any) -> Any:
        try:
            return self.compute(term, args)
        except CattermsError as e:
            raise type(e)(f"in the task at {self.where}: {e}") from None
        except Exception as e:  # e.g. a MemoryError while gathering: still name the step
            raise EvaluationError(f"in the task at {self.where}: {type(e).__name__}: {e}") from None

    @abstractmethod
    def compute(self, term: Term, args: tuple) -> Any:
        """The task's result from its arguments."""


class Value(Body):
    """``f x``."""

    def compute(self, term: Term, args: tuple) -> Any:
        return program(term, self.dom, "value")(gather(self.spec, args))


@sizeof.register(Term)
@cached(entries=1024)
def term_bytes(term: Term) -> int:
    """What a term weighs: mostly its constants. Registered with Dask, so the scheduler runs a task
    where its big subterm already is, like any big input."""
    # a loop's body, and its constants, travel with it
    return 64 * sum(1 for _ in term.nodes(bodies=True)) + constant_bytes(term)


SERIAL_RUNS, SERIAL_BUDGET_S = 5, 1.0  # the baseline's timed runs: at most this many, within about this time


def serial_time(term: Term, dom: Type, mode: Mode, args: tuple) -> float:
    """The whole job in one process, without Dask (the baseline of ``baseline=True``, run as one task):
    compiled and run once untimed, as the workers are warm (a first run also grows the heap, page by
    page), then the best of a few timed runs. One run of a job of tens of milliseconds varied 5× on a
    shared machine, which printed efficiencies above 1 on one worker."""
    run = program(term, dom, mode)
    run(*args)
    best, spent = float("inf"), 0.0
    for _ in range(SERIAL_RUNS):
        t0 = time.perf_counter()
        run(*args)
        took = time.perf_counter() - t0
        best, spent = min(best, took), spent + took
        if spent >= SERIAL_BUDGET_S:
            break
    return best
