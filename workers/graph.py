"""A plan as one Dask task graph for one job (pure: talks to no cluster).

The graph is in Dask's documented format: a dict of key → task tuple ``(callable, *args)``, where an
argument that is another task's key stands for that task's result. Keys are the only strings in it.

Keys read ``value-{step name}-{job}-{step}``, e.g. ``value-sin-3f9c…-7``, so Dask's dashboard groups a
one-primitive step's tasks by it (``value-sin``; a fused step's name has underscores, and its tasks group as
``value``) and the Executor's scheduler plugin can tell jobs apart. Dask's placement must not read these
groups: see ``SCHEDULER_CONFIG`` in :mod:`workers.executor`. Every mode is the value of a
term (:mod:`workers.plan`), so a step is one task, which reads the tasks its wire names: the
dependencies of a reverse pass are those its derivative term has, nothing is added by hand.

Dask moves a task's result whole to every worker whose task reads any of it. A fused step returns its
outputs together with the residuals its own later half's reader needs, so a reader that wants one array
of it would pull all of them across (a tree's root reading the join of a pair drew the pair's residuals
too). So where a step's readers read different parts of its result, each reader reads a *part* task
(:class:`Part`, keyed ``part-…``) that keeps only its arrays: it depends on the step alone, so Dask runs it
where the step's result is, and only what the reader reads moves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catterms import Term
from catterms.engine import trees

from . import tokens  # noqa: F401  (registers Dask's token for terms: graphs hold terms)
from .bodies import Slot, Spec, Value
from .plan import Plan, Step
from .wires import INPUT, Leaf, Ref

#: ``inputs(path)``: the task argument for the job's input array at ``path``, as an array (embedded) or
#: a future (scattered).
Inputs = Callable[[tuple[int, ...]], Any]


@dataclass
class Graph:
    """The tasks of one job and where the Executor finds what it assembles the result from."""

    dsk: dict[str, tuple] = field(default_factory=dict)
    info: dict[str, int] = field(default_factory=dict)  # task → its step
    values: dict[int, str] = field(default_factory=dict)  # step → the task of its value, to fetch
    parts: set[str] = field(default_factory=set)  # the part tasks among dsk (module docstring)

    @property
    def tasks(self) -> int:
        """The steps that run as tasks (part tasks only pick arrays out)."""
        return len(self.dsk) - len(self.parts)

    @property
    def deps(self) -> dict[str, list[str]]:
        """Each task's dependencies among the job's tasks (scattered inputs are not tasks)."""
        return {k: [d for d in t[1:] if isinstance(d, str) and d in self.dsk] for k, t in self.dsk.items()}

    @property
    def fetch(self) -> list[str]:
        """The keys the Executor gathers."""
        return list(self.values.values())


def key(step: Step, job: str) -> str:
    return f"value-{re.sub(r'[^A-Za-z0-9]+', '_', step.name).strip('_') or 'step'}-{job}-{step.index}"


class Args:
    """A task's argument list, each dependency or input array passed once."""

    def __init__(self) -> None:
        self.args: list[Any] = []
        self.index: dict[Any, int] = {}

    def slot(self, ident: Any, arg: Any, path: tuple[int, ...]) -> Slot:
        k = self.index.get(ident)
        if k is None:
            k = self.index[ident] = len(self.args)
            self.args.append(arg)
        return Slot(k, path)


def term_uses(plan: Plan) -> list[Term]:
    """Each task's subterm (tail steps run in the Executor)."""
    return [s.term for s in plan.steps.values() if not s.tail]


class Part:
    """A task's result with only the arrays at ``paths`` kept, the others ``None``: the same nesting, so
    a reader's paths into it are those into the whole."""

    def __init__(self, paths: set[tuple[int, ...]]) -> None:
        self.paths = frozenset(paths)  # of arrays: a wire's Ref names an array, a leaf of the result

    def __repr__(self) -> str:
        return f"Part({sorted(self.paths)})"

    def __call__(self, value: Any) -> Any:
        return trees.build(value, lambda path, array: array if path in self.paths else None)


EXECUTOR = -1  # the reader that assembles the result (from the output's wire and the tail steps)


def _reads(plan: Plan) -> dict[int, dict[int, set[tuple[int, ...]]]]:
    """Per step, what each reader (a task's step, or :data:`EXECUTOR`) reads of its result."""
    reads: dict[int, dict[int, set[tuple[int, ...]]]] = {}
    wires = [(EXECUTOR, plan.output)] + [(EXECUTOR if s.tail else s.index, s.wire) for s in plan.steps.values()]
    for reader, wire in wires:
        for w in trees.leaves(wire):
            if isinstance(w, Ref) and w.source != INPUT:
                reads.setdefault(w.source, {}).setdefault(reader, set()).add(w.path)
    return reads


def build_graph(plan: Plan, job: str, inputs: Inputs, terms: Callable[[Term], Any] = lambda t: t) -> Graph:
    """The Dask graph of ``plan`` for job ``job``; ``terms`` gives each step's subterm as a task argument:
    itself, or a future of it."""
    g = Graph()
    steps = plan.steps
    reads = _reads(plan)
    # what each step's readers read of it together, where they read different parts
    whole = {i: set().union(*by.values()) for i, by in reads.items() if len(by) > 1}

    def source(i: int, reader: int) -> str:
        """The task ``reader`` reads step ``i``'s result from: the step's, or a part of it (module docstring)."""
        k = key(steps[i], job)
        if i not in whole or reads[i][reader] == whole[i]:
            return k
        part = f"part-{'out' if reader == EXECUTOR else reader}_of_{i}-{job}-{i}"
        if part not in g.dsk:
            g.dsk[part] = (Part(reads[i][reader]), k)
            g.info[part] = i
            g.parts.add(part)
        return part

    def spec(step: Step, args: Args) -> Spec:
        def leaf(q: tuple[int, ...], w: Leaf) -> Any:
            if not isinstance(w, Ref):
                return w
            if w.source == INPUT:
                return args.slot(("x", w.path), inputs(w.path), ())
            k = source(w.source, step.index)
            return args.slot(k, k, w.path)

        return trees.build(step.wire, leaf)

    for step in steps.values():
        if step.tail:
            continue
        args = Args()
        k = key(step, job)
        body = Value(step.dom, spec(step, args), step.where)
        g.dsk[k] = (body, terms(step.term), *args.args)
        g.info[k] = step.index
        if EXECUTOR in reads.get(step.index, {}):
            g.values[step.index] = source(step.index, EXECUTOR)
    return g
