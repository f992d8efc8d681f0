"""Type inference: the functor from terms to functions on objects.

A term's morphism here maps a domain object to its codomain object, checking every node on the way.
The first node that cannot accept its input raises :class:`~catterms.errors.TermTypeError` with the
node's path in the term and both types; nothing runs before a term has passed this check.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Sequence

from .category import Category, Location, gc_paused, headroom, interpreted, sequence
from .errors import TermTypeError
from .prims import Rule
from .terms import Term
from .types import Array, Type, show

TypeFn = Callable[[Type], Type]


def _tuple(what: str, t: Type, n: int) -> tuple:
    if not isinstance(t, tuple) or len(t) != n:
        raise TermTypeError(f"{what} expects a {n}-tuple, got {show(t)}")
    return t


class Types(Category[TypeFn]):
    """Terms as functions from domain objects to codomain objects."""

    def id(self) -> TypeFn:
        return lambda t: t

    def compose(self, fs: Sequence[TypeFn]) -> TypeFn:
        return sequence(fs)

    def cross(self, fs: Sequence[TypeFn]) -> TypeFn:
        return lambda t: tuple([f(c) for f, c in zip(fs, _tuple(f"a {len(fs)}-way cross", t, len(fs)))])

    def fork(self, fs: Sequence[TypeFn]) -> TypeFn:
        return lambda t: tuple([f(t) for f in fs])

    def join(self, fs: Sequence[TypeFn]) -> TypeFn:
        def run(t: Type) -> Type:
            outs = [f(c) for f, c in zip(fs, _tuple(f"a {len(fs)}-way join", t, len(fs)))]
            return _same(f"a {len(fs)}-way join", outs)

        return run

    def proj(self, i: int, n: int) -> TypeFn:
        return lambda t: _tuple("projection", t, n)[i]

    def dup(self, n: int) -> TypeFn:
        return lambda t: (t,) * n

    def jam(self, n: int) -> TypeFn:
        return lambda t: _same("jam", list(_tuple("jam", t, n)))

    def inj(self, i: int, n: int, like: tuple | None) -> TypeFn:
        def run(t: Type) -> Type:
            if like is None:
                return (t,) * n
            if like[i] != t:
                raise TermTypeError(f"injection into {show(like)} expects {show(like[i])}, got {show(t)}")
            return like

        return run

    def prim(self, rule: Rule, params: dict[str, Any]) -> TypeFn:
        return lambda t: rule.type(t, **params)

    def const(self, value: Any) -> TypeFn:
        ty = Array(value.shape, value.dtype)
        return lambda t: ty

    def at(self, m: TypeFn, node: Term, where: Location) -> TypeFn:
        def located(t: Type) -> Type:
            try:
                return m(t)
            except TermTypeError as e:
                if getattr(e, "where", None) is None:
                    located_error = TermTypeError(f"at {where}: {e}")
                    located_error.where = str(where)  # type: ignore[attr-defined]
                    raise located_error from None
                raise

        return located


def _same(what: str, ts: list[Type]) -> Type:
    for t in ts[1:]:
        if t != ts[0]:
            raise TermTypeError(f"{what} adds components of different types: {show(ts[0])} and {show(t)}")
    return ts[0]


TYPES = Types()


@lru_cache(maxsize=1024)
def infer(term: Term, dom: Type) -> Type:
    """The codomain of ``term`` on domain ``dom``; raises :class:`TermTypeError` if it is ill-typed."""
    headroom(term)
    with gc_paused():
        return interpreted(term, TYPES)(dom)
