"""Type inference: the functor from terms to functions on objects, each node priced on the way.

A term's morphism here maps a domain object to its codomain object and the node's estimated cost
(:mod:`catterms.cost`), checking every node on the way. The first node that cannot accept its input
raises :class:`~catterms.errors.TermTypeError` with the node's path in the term and both types; nothing
runs before a term has passed this check.

Each node remembers what it found for the types it was checked at (:class:`Typed`), so the check of a
DAG visits a shared node once per type, and the planner (``workers.plan``) reads any node's type and
cost from the check a job has already paid for instead of walking the term again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .boundary import boundary
from .caches import cached
from .category import Category, Fold, Location, fold, folded
from .cost import FREE, Cost, parallel, priced, serial, summed
from .errors import TermTypeError
from .prims import Rule
from .terms import Term
from .types import Array, Type, differentiable, show

Typing = tuple[Type, Cost]
TypeFn = Callable[[Type], Typing]


def _tuple(what: str, t: Type, n: int) -> tuple:
    if not isinstance(t, tuple) or len(t) != n:
        raise TermTypeError(f"{what} expects a {n}-tuple, got {show(t)}")
    return t


def _free(type_fn: Callable[[Type], Type]) -> TypeFn:
    return lambda t: (type_fn(t), FREE)


class Typed:
    """A node's check: ``check(t)`` is its codomain and cost on ``t``, found once per type."""

    __slots__ = ("run", "where", "first", "more")

    def __init__(self, run: TypeFn, where: Location) -> None:
        self.run, self.where = run, where
        # the first type checked and what it gave, as one pair: a node nearly always sees one type, and
        # threads checking the same node at once each see a whole pair or none
        self.first: tuple[Type, Typing] | None = None
        self.more: dict[Type, Typing] | None = None  # any others: a shared node used at several types

    def check(self, t: Type) -> Typing:
        first = self.first
        if first is not None and (first[0] is t or first[0] == t):
            return first[1]
        if self.more is not None and t in self.more:
            return self.more[t]
        try:
            found = self.run(t)
        except TermTypeError as e:
            if getattr(e, "where", None) is None:
                located = TermTypeError(f"at {self.where}: {e}")
                located.where = str(self.where)  # type: ignore[attr-defined]
                raise located from None
            raise
        if first is None:
            self.first = (t, found)
        else:
            if self.more is None:
                self.more = {}
            self.more[t] = found
        return found

    @property
    def computes(self) -> bool:
        """Whether the node calls anything (a primitive or a sum) — the same at every type; a checked
        node's only (a node not checked yet has no answer)."""
        assert self.first is not None, "not checked yet"
        return self.first[1][1].calls > 0


class Types(Category[Any]):
    """Terms as functions from domain objects to codomain objects and costs.

    Two morphism types (which one ``Category``'s parameter cannot express): the generators build a
    :data:`TypeFn` from their children's :class:`Typed`, and :meth:`at` wraps each in its node's Typed."""

    def id(self) -> TypeFn:
        return _free(lambda t: t)

    def compose(self, fs: Sequence[Typed]) -> TypeFn:
        checks = [f.check for f in fs]

        def run(t: Type) -> Typing:
            t, c = checks[0](t)
            for f in checks[1:]:
                t, more = f(t)
                c = serial(c, more)
            return t, c

        return run

    def cross(self, fs: Sequence[Typed]) -> TypeFn:
        checks = [f.check for f in fs]

        def run(t: Type) -> Typing:
            outs = [f(c) for f, c in zip(checks, _tuple(f"a {len(fs)}-way cross", t, len(fs)))]
            return tuple([o for o, _ in outs]), parallel([c for _, c in outs])

        return run

    def fork(self, fs: Sequence[Typed]) -> TypeFn:
        checks = [f.check for f in fs]

        def run(t: Type) -> Typing:
            outs = [f(t) for f in checks]
            return tuple([o for o, _ in outs]), parallel([c for _, c in outs])

        return run

    def join(self, fs: Sequence[Typed]) -> TypeFn:
        checks = [f.check for f in fs]

        def run(t: Type) -> Typing:
            outs = [f(c) for f, c in zip(checks, _tuple(f"a {len(fs)}-way join", t, len(fs)))]
            cod = _same(f"a {len(fs)}-way join", [o for o, _ in outs])
            return cod, parallel([c for _, c in outs], summed(len(fs), cod))

        return run

    def proj(self, i: int, n: int) -> TypeFn:
        return _free(lambda t: _tuple("projection", t, n)[i])

    def dup(self, n: int) -> TypeFn:
        return _free(lambda t: (t,) * n)

    def jam(self, n: int) -> TypeFn:
        def run(t: Type) -> Typing:
            cod = _same("jam", list(_tuple("jam", t, n)))
            return cod, summed(n, cod)

        return run

    def inj(self, i: int, n: int, like: tuple | None) -> TypeFn:
        def run(t: Type) -> Type:
            if like is None:
                return (t,) * n
            if like[i] != t:
                raise TermTypeError(f"injection into {show(like)} expects {show(like[i])}, got {show(t)}")
            return like

        return _free(run)

    def prim(self, rule: Rule, params: dict[str, Any]) -> TypeFn:
        def run(t: Type) -> Typing:
            cod = rule.type(t, **params)
            return cod, priced(rule, t, cod, params)

        return run

    def const(self, value: Any) -> TypeFn:
        ty = Array(value.shape, value.dtype)
        return _free(lambda t: ty)

    def at(self, m: TypeFn, node: Term, where: Location) -> Typed:
        return Typed(m, where)


def _same(what: str, ts: list[Type]) -> Type:
    for t in ts[1:]:
        if t != ts[0]:
            raise TermTypeError(f"{what} adds components of different types: {show(ts[0])} and {show(t)}")
    return ts[0]


TYPES = Types()


@boundary
def checked(term: Term, dom: Type) -> Fold[Typed]:
    """``term`` checked on ``dom``: every node's :class:`Typed`, each knowing the types it was checked at.
    Raises :class:`TermTypeError` if the term is ill-typed."""
    fold = folded(term, TYPES)
    fold.morphism.check(dom)
    return fold


@cached(entries=1024)
@boundary
def typing(term: Term, dom: Type) -> Typing:
    """The codomain of ``term`` on ``dom`` and its estimated cost; raises :class:`TermTypeError` if it is
    ill-typed. The nodes' checks are not kept (only :func:`checked`, for the planner, keeps them): freed
    before the cycle collector resumes, a few objects per node are never scanned by it."""
    return fold(term, TYPES).morphism.check(dom)


def require_scalar(cod: Type, dom: Type) -> None:
    """A gradient is of a term with a float scalar output, with respect to an input that has a float part;
    refuse any other before anything runs."""
    if not (isinstance(cod, Array) and cod.shape == () and cod.differentiable):
        raise TermTypeError(f"grad needs a float scalar output, but the term returns {show(cod)}; "
                            "use vjp (a cotangent of the output's type) or jacobian")
    if not differentiable(dom):
        raise TermTypeError(f"grad with respect to {show(dom)}, which has no float part: integer and boolean "
                            "values have no derivative (pass floats, e.g. x.astype(float), to differentiate)")


def infer(term: Term, dom: Type) -> Type:
    """The codomain of ``term`` on domain ``dom``; raises :class:`TermTypeError` if it is ill-typed."""
    return typing(term, dom)[0]


def cost(term: Term, dom: Type) -> Cost:
    """Estimated cost of evaluating ``term`` on ``dom``; raises :class:`TermTypeError` if it is ill-typed."""
    return typing(term, dom)[1]
