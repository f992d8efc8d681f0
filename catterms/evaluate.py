"""Evaluation: the functor from terms to Python functions on numpy values.

Plumbing (``id``, projections, ``dup``, injections) becomes tuple shuffling; primitives become their
``impl``. Run on symbols (:mod:`catterms.codegen`), the same functions write the term as straight-line
code in which the plumbing has disappeared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import add, itemgetter
from typing import Any

from . import trees
from .category import Category, Location, sequence
from .codegen import lift, located
from .prims import Rule, bind
from .terms import Term
from .vectors import zeros, zeros_like

Fn = Callable[[Any], Any]


def _identity(x: Any) -> Any:
    return x


def summed(xs: Sequence[Any]) -> Any:
    """``jam`` on values: the sum of same-typed components, tuples componentwise."""
    acc = xs[0]
    for x in xs[1:]:
        acc = trees.map(add, acc, x)
    return acc


class Evaluate(Category[Fn]):
    """Terms as functions."""

    def id(self) -> Fn:
        return _identity

    def compose(self, fs: Sequence[Fn]) -> Fn:
        return sequence(fs)

    def cross(self, fs: Sequence[Fn]) -> Fn:
        def run(x: Any) -> tuple:
            out = []
            for f, xi in zip(fs, x):
                out.append(f(xi))
            return tuple(out)

        return run

    def fork(self, fs: Sequence[Fn]) -> Fn:
        # Same meaning as the derived (f × g) ∘ dup, without building the intermediate pair.
        def run(x: Any) -> tuple:
            out = []
            for f in fs:
                out.append(f(x))
            return tuple(out)

        return run

    def proj(self, i: int, n: int) -> Fn:
        return itemgetter(i)

    def dup(self, n: int) -> Fn:
        return lambda x: (x,) * n

    def jam(self, n: int) -> Fn:
        return summed

    def inj(self, i: int, n: int, like: tuple | None) -> Fn:
        if like is None:
            return lambda x: tuple(x if j == i else zeros_like(x) for j in range(n))
        return lambda x: tuple(x if j == i else zeros(like[j]) for j in range(n))

    def prim(self, rule: Rule, params: dict[str, Any]) -> Fn:
        return bind(rule, params)

    def const(self, value: Any) -> Fn:
        return lambda x: lift(value)

    def at(self, m: Fn, node: Term, where: Location) -> Fn:
        return at_primitive(m, node, where)


def at_primitive(m: Callable[[Any], Any], node: Term, where: Location) -> Callable[[Any], Any]:
    """Attribute the code a primitive emits to its location, so a failure at run time names it."""
    if node.op != "prim":
        return m

    def run(x: Any) -> Any:
        with located(where):
            return m(x)

    return run


EVAL = Evaluate()
