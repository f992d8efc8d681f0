"""The Executor's side of a job: seeding the backward pass, and assembling the result.

The plan's *tail* — light affine steps between the cluster's tasks and the output — runs here. Before
submission, reverse mode pushes the output cotangent back through the tail (its derivative is the same
at every point, so it is evaluated at zero) and hands each task the cotangent its output receives: the
seeds. After the tasks finish, the tail runs forward on their values to give the output, and the
cotangents the tasks computed for the job's input are added up (the ``jam`` of every use of an input).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catterms import Type
from catterms.engine import program, zeros
from catterms.modes import SPECS

from .bodies import placeholder
from .graph import Graph
from .plan import Plan
from .wires import INPUT, Leaf, Ref, Unused, Wire, Zero, build, leaves, pick, rebuild

Parts = dict[tuple[int, ...], list[Any]]


def _add(acc: dict[tuple[int, ...], Any], path: tuple[int, ...], part: Any) -> None:
    acc[path] = part if path not in acc else acc[path] + part


def total(ty: Type, parts: Parts) -> Any:
    """A value of type ``ty`` whose array at each path is the sum of its parts (zero if none); a part
    without a tangent (integers, booleans) is ``None``."""

    def at(p: tuple[int, ...]) -> Any:
        if not pick(ty, p).differentiable:
            return None
        ps = parts.get(p)
        if not ps:
            return zeros(pick(ty, p))
        if len(ps) == 1:
            return ps[0]
        acc = ps[0] + ps[1]  # a new array, ours to add the rest into: no temporary per part
        for part in ps[2:]:
            acc += part
        return acc

    return build(ty, at)


def seed(plan: Plan, dy: Any) -> tuple[dict[int, tuple[list[tuple[int, ...]], tuple]], Parts]:
    """The cotangent each task's output receives from the output and the tail, and the parts of the
    input's cotangent that reach it directly (an output or tail that reads the input)."""
    steps = plan.steps
    tails: dict[int, dict[tuple[int, ...], Any]] = {}
    tasks: dict[int, dict[tuple[int, ...], Any]] = {}
    dx: Parts = {}

    def send(wire: Wire, ct: Any) -> None:
        for q, w in leaves(wire):
            if not isinstance(w, Ref):
                continue
            part = pick(ct, q)
            if w.source == INPUT:
                dx.setdefault(w.path, []).append(part)
            else:
                _add((tails if steps[w.source].role == "tail" else tasks).setdefault(w.source, {}), w.path, part)

    send(plan.output, dy)
    for step in reversed(plan.role("tail")):
        acc = tails.get(step.index, {})
        # build calls the function at once, in this iteration
        ct = build(step.cod, lambda p: acc[p] if p in acc else zeros(pick(step.cod, p)))  # noqa: B023
        _, back = program(step.term, step.dom, "vjp")(zeros(step.dom), ct)
        send(step.wire, back)
    return {i: (list(acc), tuple(acc.values())) for i, acc in tasks.items()}, dx


def output(plan: Plan, graph: Graph, fetched: dict[str, Any], x: Any, dx: Any = None) -> Any:
    """The job's output from the tasks' values and the tail: ``y``, or ``(y, dy)`` in jvp mode."""
    jvp = SPECS[plan.mode].forward
    done: dict[int, Any] = {}

    def value_of(src: int) -> Any:
        if src in done:
            return done[src]
        k, prefix = graph.values[src]
        return pick(fetched[k], prefix)

    def gather(wire: Wire, part: int | None) -> Any:
        def leaf(q: tuple[int, ...], w: Leaf) -> Any:
            if isinstance(w, Ref):
                if w.source == INPUT:
                    return pick(x if part != 1 else dx, w.path)
                v = value_of(w.source)
                return pick(v if part is None else v[part], w.path)
            if isinstance(w, Unused):
                return placeholder(w.type)
            if isinstance(w, Zero):
                return zeros(w.type)
            return w.value if part != 1 else np.zeros_like(w.value)

        return rebuild(wire, leaf)

    for step in plan.role("tail"):
        if jvp:
            done[step.index] = program(step.term, step.dom, "jvp")(gather(step.wire, 0), gather(step.wire, 1))
        else:
            done[step.index] = program(step.term, step.dom, "value")(gather(step.wire, None))
    if jvp:
        return gather(plan.output, 0), gather(plan.output, 1)
    return gather(plan.output, None)


def cotangent(plan: Plan, graph: Graph, fetched: dict[str, Any], dx: Parts) -> Any:
    """The job's input cotangent: what the tasks computed for each input array, plus ``dx``, added up."""
    parts: Parts = {p: list(v) for p, v in dx.items()}
    for i, (k, prefix) in graph.cotangents.items():
        ct = pick(fetched[k], prefix)
        for q, w in leaves(plan.steps[i].wire):
            if isinstance(w, Ref) and w.source == INPUT:
                parts.setdefault(w.path, []).append(pick(ct, q))
    return total(plan.dom, parts)

