"""Automatic differentiation: the generalized derivative functor ``D`` over a category of linear maps.

A morphism of ``D lin`` is a function ``x ↦ (f x, 𝒟 f x)`` whose derivative lives in ``lin`` (paper
§4, generalized in §7). Every generator is handled once, here:

* composition chains derivatives (Thm 1), cross crosses them (Thm 2);
* plumbing and linear primitives are their own derivatives (Thm 3: ``linearD``);
* a non-linear primitive asks its table row for the derivative, built in ``lin``;
* a constant, and any result without a tangent (an integer or boolean array), has the zero derivative.

Forward mode is ``D(ADDITIVE)``; reverse mode is ``D(DUAL)`` — the same construction over the dual
category, so composition of derivatives flips and forks become joins without a single extra rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .category import Category, Location
from .codegen import lift
from .evaluate import EVAL, at_primitive
from .linear import ADDITIVE, DUAL, Lin, LinearCategory
from .prims import Rule, shapes
from .terms import Term


def has_tangent(y: Any) -> bool:
    """Whether a (symbolic or real) value has a float part; decided at generation time, for free."""
    return any(has_tangent(c) for c in y) if isinstance(y, tuple) else y.dtype.kind == "f"

DFn = Callable[[Any], tuple[Any, Lin]]


class D(Category[DFn]):
    """Terms as functions returning their value and their derivative (a map in ``lin``) at a point."""

    def __init__(self, lin: LinearCategory) -> None:
        self.lin = lin

    @staticmethod
    def linear_d(f: Callable[[Any], Any], f_lin: Lin) -> DFn:
        """``linearD``: a linear map is its own derivative, everywhere."""
        return lambda x: (f(x), f_lin)

    def id(self) -> DFn:
        return self.linear_d(EVAL.id(), self.lin.id())

    def compose(self, fs: Sequence[DFn]) -> DFn:
        compose = self.lin.compose

        def run(x: Any) -> tuple[Any, Lin]:
            ds = []
            for f in fs:
                x, d = f(x)
                ds.append(d)
            return x, compose(ds)

        return run

    def cross(self, fs: Sequence[DFn]) -> DFn:
        cross = self.lin.cross

        def run(x: Any) -> tuple[Any, Lin]:
            ys, ds = [], []
            for f, xi in zip(fs, x):
                y, d = f(xi)
                ys.append(y)
                ds.append(d)
            return tuple(ys), cross(ds)

        return run

    def fork(self, fs: Sequence[DFn]) -> DFn:
        # 𝒟(f △ g) a = 𝒟f a △ 𝒟g a — the derived (f × g) ∘ dup, without the intermediate pair.
        fork = self.lin.fork

        def run(x: Any) -> tuple[Any, Lin]:
            ys, ds = [], []
            for f in fs:
                y, d = f(x)
                ys.append(y)
                ds.append(d)
            return tuple(ys), fork(ds)

        return run

    def proj(self, i: int, n: int) -> DFn:
        return self.linear_d(EVAL.proj(i, n), self.lin.proj(i, n))

    def dup(self, n: int) -> DFn:
        return self.linear_d(EVAL.dup(n), self.lin.dup(n))

    def jam(self, n: int) -> DFn:
        return self.linear_d(EVAL.jam(n), self.lin.jam(n))

    def inj(self, i: int, n: int, like: tuple | None) -> DFn:
        return self.linear_d(EVAL.inj(i, n, like), self.lin.inj(i, n, like))

    def prim(self, rule: Rule, params: dict[str, Any]) -> DFn:
        f, lin = EVAL.prim(rule, params), self.lin
        zero = lin.zero()
        if rule.linear:
            linear = lin.linear

            def run_linear(x: Any) -> tuple[Any, Lin]:
                y = f(x)
                return y, linear(rule, params, shapes(x)) if has_tangent(y) else zero

            return run_linear
        deriv = rule.deriv
        assert deriv is not None
        saving = rule.saving(params) if rule.saving is not None else None
        if saving is not None:
            return self._saving(rule, *saving)

        def run(x: Any) -> tuple[Any, Lin]:
            y = f(x)
            # a result without a tangent (integers, booleans) has no derivative, whatever made it
            return y, deriv(lin, x, y, **params) if has_tangent(y) else zero

        return run

    def _saving(self, rule: Rule, more: dict[str, Any], k: int) -> DFn:
        """A rule run as its saving variant (:attr:`~catterms.prims.Rule.saving`): the result is its first
        leaves, and the derivative is the variant's followed by the projection onto them."""
        full_f, lin, deriv = EVAL.prim(rule, more), self.lin, rule.deriv
        assert deriv is not None

        def run(x: Any) -> tuple[Any, Lin]:
            full = full_f(x)
            n = len(full)
            y = full[0] if n - k == 1 else tuple(full[:n - k])
            if not has_tangent(y):
                return y, lin.zero()
            keep = lin.proj(0, n) if n - k == 1 else lin.fork([lin.proj(i, n) for i in range(n - k)])
            return y, lin.compose([deriv(lin, x, full, **more), keep])

        return run

    def const(self, value: Any) -> DFn:
        zero = self.lin.zero()
        return lambda x: (lift(value), zero)

    def at(self, m: DFn, node: Term, where: Location) -> DFn:
        return at_primitive(m, node, where)


FORWARD = D(ADDITIVE)
REVERSE = D(DUAL)
