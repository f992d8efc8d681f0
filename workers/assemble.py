"""The Executor's side of a job: assembling the result from the tasks' values and the plan's tail.

The plan's *tail* — light steps between the cluster's tasks and the output, e.g. the sum of a
weight's cotangents over data shards — runs here, on the values the tasks computed, once they are
fetched. Every mode is the value of a term (:mod:`workers.plan`), so assembling is evaluating.
"""

from __future__ import annotations

from typing import Any, cast

from catterms import Type
from catterms.engine import as_tangent, filled, nones, program
from catterms.modes import SPECS

from .bodies import read
from .graph import Graph
from .plan import Plan
from .wires import INPUT


def output(plan: Plan, graph: Graph, fetched: dict[str, Any], x: Any) -> Any:
    """The value of the job's term: its output wire, read off the tasks' values, ``x`` and the tail."""
    done: dict[int, Any] = {}

    def source(i: int) -> Any:
        return x if i == INPUT else done[i] if i in done else fetched[graph.values[i]]

    for step in plan.tail:
        done[step.index] = program(step.term, step.dom, "value")(read(step.wire, source))
    return read(plan.output, source)


def job_input(mode: str, x: Any, dom: Type, cod: Type, direction: Any = None) -> Any:
    """The input of a job's term (:func:`~catterms.engine.job_term`): ``x``, or ``(x, direction)`` for a
    mode that takes a tangent (like ``x``) or a cotangent (like the output); a direction's parts without a
    derivative (``None``, integer or boolean arrays) are zeros in a term."""
    needs = SPECS[mode].needs
    if needs is None:
        return x
    like = dom if needs == "tangent" else cod
    return x, filled(as_tangent(direction, like), like)


def result(plan: Plan, graph: Graph, fetched: dict[str, Any], x: Any) -> tuple[Any, Any]:
    """A job's ``(value, derivative)`` (``derivative`` None for a value job) from the value of its term:
    for a derivative mode a pair, whose parts without a derivative are zeros in the term and ``None`` in
    the result (as catterms' API gives them)."""
    out = output(plan, graph, fetched, x)
    spec = SPECS[plan.mode]
    if spec.derivative is None:
        return out, None
    cods = cast(tuple, plan.cod)
    value, derivative = out
    return (nones(value, cods[0]) if spec.value == "gradient" else value), nones(derivative, cods[1])
