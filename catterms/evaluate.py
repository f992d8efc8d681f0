"""Evaluation: the functor from terms to Python functions on numpy values.

Plumbing (``id``, projections, ``dup``, injections) becomes tuple shuffling; primitives become their
``impl``. Run on symbols (:mod:`catterms.codegen`), the same functions write the term as straight-line
code in which the plumbing has disappeared.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Callable, Sequence

import numpy as np

from .category import Category, Location, sequence
from .codegen import apply, lift, located, out_spec, staged, sym_type, symbolic
from .prims import Rule
from .terms import Term
from .vectors import zeros, zeros_like

Fn = Callable[[Any], Any]


def _identity(x: Any) -> Any:
    return x


def bind(rule: Rule, params: dict[str, Any]) -> Fn:
    """A primitive applied to its input: computed now, or emitted while generating code."""
    impl = rule.impl
    held = staged(*params.values())  # a derivative's coefficient, while a derivative term is recorded
    if rule.lazy:
        return lambda x: _kind(held, x, _Now).primitive(rule, params, x)
    extra, kw = _convention(rule, params)

    def run(x: Any) -> Any:
        kind = _kind(held, x, None)
        if kind is not None:
            return kind.primitive(rule, params, x)
        args = (x if rule.arity == 2 else (x,)) + extra
        return apply(impl, args, kw, lambda: out_spec(rule.type(sym_type(x), **params)))

    return run


def _kind(held: Any, x: Any, default: Any) -> Any:
    """Who applies a primitive: the staged kind of a parameter or of ``x`` — unless ``x`` holds a Sym, whose
    line is emitted (a batched tangent's, :class:`~catterms.batching.Now`, with traced coefficients)."""
    kind = held or staged(x)
    return default if kind is None or symbolic((x,)) else kind


def _convention(rule: Rule, params: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """How ``rule.impl`` takes its parameters: positionally for a ufunc (scale is np.multiply(x, s), which
    lets generated code write it in place, :mod:`catterms.buffers`), else by keyword."""
    return (tuple(params.values()), {}) if isinstance(rule.impl, np.ufunc) else ((), params)


def invoke(rule: Rule, params: dict[str, Any], x: Any) -> Any:
    """``rule.impl`` run on ``x`` now, whatever ``x`` is (an array, a tuple of them, tracers): the table's
    calling convention, as :func:`bind` uses it."""
    extra, kw = _convention(rule, params)
    return rule.impl(*((x if rule.arity == 2 else (x,)) + extra), **kw)


class _Now:
    """A lazy rule (``scatter``, ``pow``) on values that are not staged: its ``impl`` runs now."""

    primitive = staticmethod(invoke)


def summed(xs: Sequence[Any]) -> Any:
    """``jam`` on values: the sum of same-typed components, tuples componentwise."""
    acc = xs[0]
    for x in xs[1:]:
        acc = tuple(summed(p) for p in zip(acc, x)) if isinstance(acc, tuple) else acc + x
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
