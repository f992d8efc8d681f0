"""Cost estimation: what a term's evaluation costs on a domain, found by the type check.

Work is the estimated number of element operations of every primitive; span is the same along the
longest dependent path, where the branches of ``×``, ``△`` and ``▽`` run side by side. Plumbing is free
(it costs nothing). ``work / span`` bounds the speedup any parallel evaluation of the term can reach.

Costs are part of a term's typing (:mod:`catterms.typecheck`): the check visits every node with its
input type anyway, so it prices each node on the way, and a job pays one pass over its term for both.
Element operations do not all take the same time — BLAS runs matmul's flops 10–50 × faster than numpy's
elementwise loops, and every primitive call costs microseconds whatever its size — so a :class:`Cost`
keeps those apart (``flops``, ``calls``) for a machine's rates to price (``workers.estimate``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .prims import Rule
from .types import Type, leaves

#: Where the critical path of parallel branches is chosen, a BLAS flop counts this many element
#: operations and a call this many (numpy on one core: ~2·10⁹ element operations, ~5·10¹⁰ flops and a
#: call of ~3 µs a second); ``workers.estimate`` prices the path with the rates it measured.
FLOP, CALL = 0.04, 6000.0


class Cost(NamedTuple):
    """``work`` and ``span`` in element operations (BLAS flops included); of each, the BLAS flops and the
    number of calls (primitives and sums)."""

    work: float
    span: float
    flops: float = 0.0
    calls: int = 0
    span_flops: float = 0.0
    span_calls: int = 0


FREE = Cost(0.0, 0.0)

#: A :class:`Cost` made without its Python-level ``__new__``: the type check makes one per node
_cost = tuple.__new__


def serial(a: Cost, b: Cost) -> Cost:
    """``a``, then ``b``."""
    return _cost(Cost, (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5]))


def _weight(c: Cost) -> float:
    return c[1] + c[4] * (FLOP - 1.0) + c[5] * CALL


def parallel(costs: list[Cost], then: Cost = FREE) -> Cost:
    """Branches side by side, then ``then``: the work of all, the span of the longest."""
    work = flops = 0.0
    calls = 0
    for c in costs:
        work, flops, calls = work + c[0], flops + c[2], calls + c[3]
    longest = max(costs, key=_weight)
    return _cost(Cost, (work + then[0], longest[1] + then[1], flops + then[2], calls + then[3],
                        longest[4] + then[4], longest[5] + then[5]))


def priced(rule: Rule, dom: Type, cod: Type, params: dict[str, Any]) -> Cost:
    """One call of a primitive (a loop's rule prices its steps itself, as a :class:`Cost`)."""
    ops = rule.cost(dom, cod, **params)
    if isinstance(ops, Cost):
        return ops
    flops = ops if rule.blas else 0.0
    return _cost(Cost, (ops, ops, flops, 1, flops, 1))


def summed(n: int, cod: Type) -> Cost:
    """``jam`` of ``n`` components of type ``cod``: ``n - 1`` additions of each element."""
    ops = (n - 1) * float(sum(a.size for a in leaves(cod)))
    return _cost(Cost, (ops, ops, 0.0, 1, 0.0, 1))
