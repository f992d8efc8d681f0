"""Admission control: what a job will cost, read off its type check before anything runs, against limits.

The type check prices every node and knows every intermediate type (:mod:`catterms.typecheck`), so
whether a job fits is a comparison, not a guess. :func:`estimate` reads, per mode:

``result_mb``  what the job returns, from its output type alone: value: the output; jvp: the output and
               its tangent; vjp and grad: the output and the input-sized cotangent; hvp: the gradient and
               the Hessian-vector product, both input-sized. Integer and boolean parts have no derivative.
``array_mb``   the largest array that one primitive, constant, sum or injection of the term makes, at its
               full size (a broadcast counts too: whatever reads it pays for every element). A tangent or
               cotangent has the shape of the value it belongs to, so this is the same in every mode.
``work_s``     seconds of one worker at the cluster's measured rates (:class:`~workers.estimate.Rates`),
               times the mode's factor: jvp ``forward`` (about 2 × the value), vjp and grad ``reverse``
               (about 2.5: reverse mode keeps the values for its backward pass), hvp ``forward × reverse``
               (forward mode over the gradient: 4.1 × the value measured on an ensemble, where the
               rule gave 4.3).
``tasks``      the Dask tasks of the job's plan (of the value of its derivative term).

:func:`check_limits` raises :class:`OverLimit` at the first figure over its :class:`JobLimits`, in that
order: the output and memory first (they follow from the types alone), then time, then tasks, the
only figure that needs a plan — so a term refused on its cost is never planned. The walk over the
checked term visits each distinct node once, and the plan of a term within ``work_s`` has at most about
``work_s / threshold_s`` heavy steps: checking and planning stay within bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from catterms import CattermsError, Term, Type
from catterms.engine import checked, leaves, prepare, show
from catterms.modes import SPECS

from .estimate import Rates, array_bytes, nbytes
from .plan import Plan, plan

MiB = 1 << 20

#: Nodes that make an array: the others pass on what they are given.
_MAKERS = frozenset({"prim", "const", "jam", "join", "inj"})

#: Planner: ``(term, domain, mode) -> Plan``, e.g. an Executor's cached one.
Planner = Callable[[Term, Type, str], Plan]


@dataclass(frozen=True)
class JobLimits:
    """The most one job may cost (see the module docstring for how each figure is read).

    The defaults admit every documented example and benchmark with room to spare — the largest, an
    ensemble of 4 MLPs of 1024 units on 4096 samples, has 32 MiB arrays, a 40 MiB result and about 1 s
    of work — and refuse terms of a few hundred bytes that would hold a worker for minutes."""

    work_s: float = 60.0
    array_mb: float = 256.0
    result_mb: float = 128.0
    tasks: int = 10_000

    def __post_init__(self) -> None:
        for name in ("work_s", "array_mb", "result_mb", "tasks"):
            if not getattr(self, name) > 0:
                raise ValueError(f"JobLimits.{name} must be positive, got {getattr(self, name)!r}")


class OverLimit(CattermsError, ValueError):
    """A job over one of its :class:`JobLimits`: ``limit`` (its name), ``value`` (the estimate), ``max``
    and ``node`` (where in the term it arises)."""

    def __init__(self, limit: str, value: float, max: float, node: str | None, message: str) -> None:
        super().__init__(message)
        self.limit, self.value, self.max, self.node = limit, value, max, node


@dataclass(frozen=True)
class Estimate:
    """A job's figures: MiB, seconds of one worker, tasks (None until planned), and where the largest
    array and the costliest primitive are."""

    result_mb: float
    array_mb: float
    array: str
    array_at: str | None
    work_s: float
    costliest_at: str | None
    root: str
    tasks: int | None = None


def result_bytes(dom: Type, cod: Type, mode: str) -> int:
    """What a job in ``mode`` returns, in bytes (its value and its derivative)."""
    spec = SPECS[mode]
    derivative = {None: 0, "output": nbytes(cod, True), "input": nbytes(dom, True)}[spec.derivative]
    return (nbytes(dom, True) if spec.value == "gradient" else nbytes(cod)) + derivative


def estimate(term: Term, dom: Type, mode: str, rates: Rates) -> Estimate:
    """The job's static figures (all but ``tasks``) from the type check of ``term`` on ``dom`` (cached:
    a job that has just been checked is not checked again)."""
    typing = checked(term, dom)
    root = typing.of[id(typing.root)]
    cod, total = root.check(dom)
    secs = rates.pricing(rates.factor(mode))
    largest, largest_type, largest_at = 0, None, None
    costliest, costliest_at = -1.0, None
    for node in typing.root.nodes():
        if node.op not in _MAKERS:
            continue
        typed = typing.of[id(node)]
        assert typed.first is not None  # every node of a checked term has been checked
        for _, (out, cost) in [typed.first, *(typed.more or {}).items()]:
            for a in leaves(out):
                size = array_bytes(a)
                if size > largest:
                    largest, largest_type, largest_at = size, a, typed.where
            if node.op == "prim" and secs(cost.work, cost.flops, cost.calls) > costliest:
                costliest, costliest_at = secs(cost.work, cost.flops, cost.calls), typed.where
    return Estimate(result_bytes(dom, cod, mode) / MiB, largest / MiB, show(largest_type) if largest_type else "-",
                    None if largest_at is None else str(largest_at), secs(total.work, total.flops, total.calls),
                    None if costliest_at is None else str(costliest_at), str(root.where))


def _over(limit: str, value: float, cap: float, node: str | None, what: str, advice: str) -> OverLimit:
    return OverLimit(limit, value, cap, node, f"{what}, over the limit {limit} = {cap:,.4g}: {advice}")


def enforce(est: Estimate, limits: JobLimits) -> None:
    """Raise :class:`OverLimit` for the first of ``est``'s figures over ``limits`` (module docstring)."""
    if est.result_mb > limits.result_mb:
        raise _over("result_mb", est.result_mb, limits.result_mb, est.root,
                    f"the job's result would take {est.result_mb:,.1f} MiB",
                    "return less (e.g. reduce the output) or split the job")
    if est.array_mb > limits.array_mb:
        raise _over("array_mb", est.array_mb, limits.array_mb, est.array_at,
                    f"the largest array, {est.array} made at {est.array_at}, takes {est.array_mb:,.1f} MiB",
                    "work on smaller arrays or split the job")
    if est.work_s > limits.work_s:
        raise _over("work_s", est.work_s, limits.work_s, est.costliest_at,
                    f"the estimated work is {est.work_s:,.1f} s of one worker (the costliest primitive is at "
                    f"{est.costliest_at})", "make the job smaller or split it")
    if est.tasks is not None and est.tasks > limits.tasks:
        raise _over("tasks", est.tasks, limits.tasks, est.root, f"the job's plan has {est.tasks:,} tasks",
                    "split the job")


def check_limits(term: Term, x: Any, mode: str = "grad", limits: JobLimits | None = None, *,
                 rates: Rates | None = None, planner: Planner | None = None) -> Estimate:
    """Check a job against ``limits`` (default :class:`JobLimits`) before it runs: type-check ``term`` on
    ``x``, estimate it at ``rates`` (default :class:`Rates`), plan it with
    ``planner`` (default: :func:`workers.plan` at those rates) and return its :class:`Estimate`, or
    raise :class:`OverLimit` naming the limit, the estimate, the maximum and the node."""
    limits, rates = limits or JobLimits(), rates or Rates()
    _, dom, _ = prepare(term, x)
    est = estimate(term, dom, mode, rates)
    enforce(est, limits)
    make = planner or (lambda t, d, m: plan(t, d, m, rate=rates))
    est = replace(est, tasks=make(term, dom, mode).tasks)
    enforce(est, limits)
    return est

