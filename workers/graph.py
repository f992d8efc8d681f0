"""A plan as one Dask task graph for one job (pure: talks to no cluster).

The graph is in Dask's documented format: a dict of key → task tuple ``(callable, *args)``, where an
argument that is another task's key stands for that task's result. Keys are the only strings in it.

Keys read ``{phase}-{step name}-{job}-{step}``, e.g. ``forward-sin-3f9c…-7``, so Dask's dashboard
groups them by phase and primitive and the Executor's scheduler plugin can tell jobs apart.

value and jvp give one task per step. Reverse mode gives, per ``vjp`` step, one task (forward and
backward together) and, per ``split`` step, three: ``forward`` returns ``(value, residuals)``;
``value`` extracts the value beside it, and downstream forward tasks read that, so residuals never
travel; ``backward`` reads the forward pair (so the scheduler runs it where the residuals are) and
the cotangents from its consumers' backward tasks — the Dual of the plan: dependencies reversed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catterms import Array, Term
from catterms.modes import SPECS

from . import tokens  # noqa: F401  (registers Dask's token for terms: graphs hold terms)
from .bodies import Backward, Body, Forward, Jvp, Slot, Spec, Value, Vjp, first
from .plan import Plan, Step
from .wires import INPUT, Leaf, Lit, Ref, Zero, leaves, rebuild, refs

#: ``inputs(kind, path)``: the task argument for the job's input array at ``path`` — kind ``"x"`` for
#: the point, ``"dx"`` for the tangent — as an array (embedded) or a future (scattered).
Inputs = Callable[[str, tuple[int, ...]], Any]


@dataclass
class Graph:
    """The tasks of one job and where the Executor finds what it assembles the result from."""

    dsk: dict[str, tuple] = field(default_factory=dict)
    info: dict[str, tuple[str, int]] = field(default_factory=dict)  # task → (phase, step)
    values: dict[int, tuple[str, tuple[int, ...]]] = field(default_factory=dict)  # step → its value
    cotangents: dict[int, tuple[str, tuple[int, ...]]] = field(default_factory=dict)  # step → its dx

    @property
    def deps(self) -> dict[str, list[str]]:
        """Each task's dependencies among the job's tasks (scattered inputs are not tasks)."""
        return {k: [d for d in t[1:] if isinstance(d, str) and d in self.dsk] for k, t in self.dsk.items()}

    @property
    def fetch(self) -> list[str]:
        """The keys the Executor gathers."""
        keys = {k: None for k, _ in self.values.values()}
        keys.update({k: None for k, _ in self.cotangents.values()})
        return list(keys)

    def add(self, key: str, phase: str, step: int, func: Callable[..., Any], args: list[Any]) -> None:
        self.dsk[key] = (func, *args)
        self.info[key] = (phase, step)


def key(phase: str, step: Step, job: str) -> str:
    return f"{phase}-{re.sub(r'[^A-Za-z0-9]+', '_', step.name).strip('_') or 'step'}-{job}-{step.index}"


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

    def extra(self, arg: Any) -> int:
        self.args.append(arg)
        return len(self.args) - 1


def term_uses(plan: Plan) -> list[Term]:
    """Each step's subterm once per task of :func:`build_graph` that carries it: a ``split`` step's goes
    with its forward and its backward task; tail steps run in the Executor."""
    return [s.term for s in plan.steps.values() if s.role != "tail" for _ in range(1 + (s.role == "split"))]


def build_graph(plan: Plan, job: str, inputs: Inputs, seeds: dict[int, tuple[list[tuple[int, ...]], Any]],
                terms: Callable[[Term], Any] = lambda t: t) -> Graph:
    """The Dask graph of ``plan`` for job ``job``.

    ``seeds`` (reverse mode) gives, per step, the cotangent its output receives from the output and the
    tail — ``(paths, arrays)`` as computed by :func:`workers.assemble.seed` — as an embedded tuple or
    a future. ``terms`` gives each step's subterm as a task argument: itself, or a future of it.
    """
    g = Graph()
    mode = SPECS[plan.mode]
    steps = plan.steps

    def value_of(src: int) -> tuple[str, tuple[int, ...]]:
        if mode.forward:
            return key("jvp", steps[src], job), (0,)
        return key("value", steps[src], job), ()

    def spec(step: Step, args: Args) -> Spec:
        def leaf(q: tuple[int, ...], w: Leaf) -> Any:
            if not isinstance(w, Ref):
                return w
            if w.source == INPUT:
                return args.slot(("x", w.path), inputs("x", w.path), ())
            k, prefix = value_of(w.source)
            return args.slot(k, k, prefix + w.path)

        return rebuild(step.wire, leaf)

    def tangent(step: Step, args: Args) -> Spec:
        def leaf(q: tuple[int, ...], w: Leaf) -> Any:
            if isinstance(w, Lit):
                return Zero(Array(w.value.shape, w.value.dtype))
            if isinstance(w, Zero):
                return w  # an Unused array stays unused
            if w.source == INPUT:
                return args.slot(("dx", w.path), inputs("dx", w.path), ())
            k = key("jvp", steps[w.source], job)
            return args.slot(k, k, (1,) + w.path)

        return rebuild(step.wire, leaf)

    def seeded(step: Step, args: Args) -> list[tuple[int, tuple[int, ...], tuple[int, ...]]]:
        if step.index not in seeds:
            return []
        paths, arrays = seeds[step.index]
        k = args.extra(arrays)
        return [(k, (i,), p) for i, p in enumerate(paths)]

    def cotangent_of(c: Step) -> tuple[str, tuple[int, ...]]:
        return (key("vjp", c, job), (1,)) if c.role == "vjp" else (key("backward", c, job), ())

    for step in steps.values():
        if step.role == "tail":
            continue
        args = Args()
        term = terms(step.term)
        if not (mode.forward or mode.reverse):
            body: Body = Value(step.dom, spec(step, args), step.where)
            g.add(key("value", step, job), "value", step.index, body, [term, *args.args])
        elif mode.forward:
            body = Jvp(step.dom, spec(step, args), tangent(step, args), step.where)
            g.add(key("jvp", step, job), "jvp", step.index, body, [term, *args.args])
        elif step.role == "vjp":
            x = spec(step, args)
            body = Vjp(step.dom, step.cod, x, seeded(step, args), refs(step.wire), step.where)
            g.add(key("vjp", step, job), "vjp", step.index, body, [term, *args.args])
        else:
            fk = key("forward", step, job)
            g.add(fk, "forward", step.index, Forward(step.dom, spec(step, args), step.where), [term, *args.args])
            g.add(key("value", step, job), "value", step.index, first, [fk])
    if mode.reverse:
        for step in reversed(list(steps.values())):
            if step.role != "split" or not step.to_input:
                continue  # a step that no input reaches has no cotangent worth computing
            args = Args()
            args.extra(key("forward", step, job))
            contributions = seeded(step, args)
            for c in (steps[i] for i in dict.fromkeys(step.consumers)):
                if c.role == "tail":
                    continue
                k, prefix = cotangent_of(c)
                for q, w in leaves(c.wire):
                    if isinstance(w, Ref) and w.source == step.index:
                        contributions.append((args.slot(k, k, ()).arg, prefix + q, w.path))
            body = Backward(step.dom, step.cod, contributions, refs(step.wire), step.where)
            g.add(key("backward", step, job), "backward", step.index, body, [terms(step.term), *args.args])
    for step in steps.values():
        if step.role == "tail":
            continue
        if step.output or any(steps[c].role == "tail" for c in step.consumers):
            if mode.reverse and step.role == "vjp":
                g.values[step.index] = (key("vjp", step, job), (0,))
            elif mode.forward:
                g.values[step.index] = (key("jvp", step, job), ())
            else:
                g.values[step.index] = (key("value", step, job), ())
        if mode.reverse and any(isinstance(w, Ref) and w.source == INPUT for _, w in leaves(step.wire)):
            g.cotangents[step.index] = cotangent_of(step)
    return g
