"""Cost estimation: the functor from terms to (codomain, work, span) given a domain.

Work is the estimated number of element operations of every primitive; span is the same along the
longest dependent path, where the branches of ``×``, ``△`` and ``▽`` run side by side. Plumbing is free
(DESIGN.md idea 6). ``work / span`` bounds the speedup any parallel evaluation of the term can reach.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, NamedTuple, Sequence

from .category import Category, headroom, interpreted
from .prims import Rule
from .terms import Term
from .typecheck import TYPES, infer
from .types import Type, leaves


class Cost(NamedTuple):
    work: float
    span: float


CostFn = Callable[[Type], tuple[Type, Cost]]
FREE = Cost(0.0, 0.0)


def _free(type_fn: Callable[[Type], Type]) -> CostFn:
    return lambda t: (type_fn(t), FREE)


def _elements(t: Type) -> float:
    return float(sum(a.size for a in leaves(t)))


def _parallel(costs: list[Cost], extra: float = 0.0) -> Cost:
    return Cost(sum(c.work for c in costs) + extra, max(c.span for c in costs) + extra)


class Costs(Category[CostFn]):
    """Terms as cost estimators."""

    def id(self) -> CostFn:
        return _free(TYPES.id())

    def compose(self, fs: Sequence[CostFn]) -> CostFn:
        def run(t: Type) -> tuple[Type, Cost]:
            work = span = 0.0
            for f in fs:
                t, c = f(t)
                work, span = work + c.work, span + c.span
            return t, Cost(work, span)

        return run

    def cross(self, fs: Sequence[CostFn]) -> CostFn:
        def run(t: Type) -> tuple[Type, Cost]:
            outs = [f(c) for f, c in zip(fs, t)]
            return tuple(o for o, _ in outs), _parallel([c for _, c in outs])

        return run

    def fork(self, fs: Sequence[CostFn]) -> CostFn:
        def run(t: Type) -> tuple[Type, Cost]:
            outs = [f(t) for f in fs]
            return tuple(o for o, _ in outs), _parallel([c for _, c in outs])

        return run

    def join(self, fs: Sequence[CostFn]) -> CostFn:
        def run(t: Type) -> tuple[Type, Cost]:
            outs = [f(c) for f, c in zip(fs, t)]
            cod = outs[0][0]
            return cod, _parallel([c for _, c in outs], (len(fs) - 1) * _elements(cod))

        return run

    def proj(self, i: int, n: int) -> CostFn:
        return _free(TYPES.proj(i, n))

    def dup(self, n: int) -> CostFn:
        return _free(TYPES.dup(n))

    def jam(self, n: int) -> CostFn:
        jam = TYPES.jam(n)

        def run(t: Type) -> tuple[Type, Cost]:
            cod = jam(t)
            extra = (n - 1) * _elements(cod)
            return cod, Cost(extra, extra)

        return run

    def inj(self, i: int, n: int, like: tuple | None) -> CostFn:
        return _free(TYPES.inj(i, n, like))

    def prim(self, rule: Rule, params: dict[str, Any]) -> CostFn:
        factor, extra = self.price(rule)

        def run(t: Type) -> tuple[Type, Cost]:
            cod = rule.type(t, **params)
            w = rule.cost(t, cod, **params) * factor + extra
            return cod, Cost(w, w)

        return run

    def price(self, rule: Rule) -> tuple[float, float]:
        """``(factor, extra)``: a call of ``rule`` costs ``factor × its element operations + extra``. Here
        every operation counts one; instances that price primitives differently (a matmul flop is cheaper
        than a transcendental, a call has a fixed cost) say so here."""
        return 1.0, 0.0

    def const(self, value: Any) -> CostFn:
        return _free(TYPES.const(value))


COSTS = Costs()


@lru_cache(maxsize=1024)
def cost(term: Term, dom: Type) -> Cost:
    """Estimated (work, span) of evaluating ``term`` on ``dom``, in element operations."""
    infer(term, dom)  # an ill-typed term fails here, with the node named, not inside the estimate
    headroom(term)
    return interpreted(term, COSTS)(dom)[1]
