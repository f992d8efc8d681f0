"""Elementwise primitives: unary maps, broadcasting binary maps, ``scale`` and ``pow``.

Derivatives are diagonal, so each is a ``scale`` by an array (paper §4.6: ``sinC = D (λa.(sin a, scale
(cos a)))``); a binary primitive's derivative is a join of two scales (``mulC``: ``scale b ▽ scale a``).
Broadcasting is part of ``scale``: ``t ↦ s·t`` may grow ``t``'s shape, and its transpose then sums back
(``sum_to``), so no primitive needs its own unbroadcasting code.

Non-smooth points follow JAX: ``abs′(0) = 0``, ``relu′(0) = 0``, ``maximum``/``minimum`` give each
argument half the derivative at ties; ``sqrt′(0)``, ``log′(0)`` and ``pow′(0)`` for exponents below 1
are ``inf``, as numpy computes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TermTypeError
from ..types import Array, Type
from . import CHEAP, TRANSCENDENTAL, TABLE, Rule, p_float, register, want_array, want_arrays


def scaled(lin: Any, s: Any, dom: tuple[int, ...]) -> Any:
    """The linear map ``t ↦ s·t`` on tangents of shape ``dom`` (``s`` may broadcast ``t`` larger)."""
    return lin.linear(TABLE["scale"], {"s": s}, dom)


def _same_type(name: str) -> Any:
    return lambda dom: want_array(name, dom)


def _elementwise_cost(k: float) -> Any:
    return lambda dom, cod, **p: k * (cod.size if isinstance(cod, Array) else 1)


def unary(name: str, impl: Any, deriv: Any, k: float = CHEAP, doc: str = "") -> Rule:
    """A smooth elementwise map; ``deriv(x, y)`` gives the diagonal of its derivative."""
    return register(Rule(
        name, 1, impl, _same_type(name), _elementwise_cost(k),
        deriv=lambda lin, x, y: scaled(lin, deriv(x, y), x.shape), doc=doc,
    ))


unary("exp", np.exp, lambda x, y: y, TRANSCENDENTAL, "eˣ")
unary("log", np.log, lambda x, y: 1 / x, TRANSCENDENTAL, "natural logarithm")
unary("sin", np.sin, lambda x, y: np.cos(x), TRANSCENDENTAL, "sine")
unary("cos", np.cos, lambda x, y: -np.sin(x), TRANSCENDENTAL, "cosine")
unary("tan", np.tan, lambda x, y: 1 + y * y, TRANSCENDENTAL, "tangent")
unary("tanh", np.tanh, lambda x, y: 1 - y * y, TRANSCENDENTAL, "hyperbolic tangent")
unary("sinh", np.sinh, lambda x, y: np.cosh(x), TRANSCENDENTAL, "hyperbolic sine")
unary("cosh", np.cosh, lambda x, y: np.sinh(x), TRANSCENDENTAL, "hyperbolic cosine")
unary("sqrt", np.sqrt, lambda x, y: 0.5 / y, TRANSCENDENTAL, "square root")
unary("abs", np.abs, lambda x, y: np.sign(x), CHEAP, "absolute value; abs′(0) = 0")
unary("relu", lambda x: np.maximum(x, 0), lambda x, y: (x > 0).astype(x.dtype), CHEAP, "max(x, 0); relu′(0) = 0")
unary("sigmoid", lambda x: 0.5 * (np.tanh(0.5 * x) + 1), lambda x, y: y * (1 - y), TRANSCENDENTAL,
      "logistic function 1/(1+e⁻ˣ), computed stably")


def _pow(x: Any, p: float) -> Any:
    return np.square(x) if p == 2 else np.power(x, p)


def _pow_deriv(lin: Any, x: Any, p: float) -> Any:
    """``t ↦ p · x^(p−1) · t``, the scalar ``p`` as a map of its own, applied last: reverse mode applies
    it first, to a cotangent that is often known (a gradient's seed, scaled), where it folds away; and
    for squares ``x^(p−1)`` is ``x`` itself, so no residual is computed."""
    factor = x if p == 2 else x ** (p - 1)
    return lin.compose([scaled(lin, factor, x.shape), scaled(lin, p, x.shape)])


register(Rule(
    "pow", 1, _pow, lambda dom, p: want_array("pow", dom), _elementwise_cost(TRANSCENDENTAL),
    deriv=lambda lin, x, y, p: _pow_deriv(lin, x, p),
    params={"p": (2.0, p_float)}, lazy=True, doc="xᵖ for a constant exponent p",
))


def _scale_type(dom: Type, s: Any) -> Type:
    a = want_array("scale", dom)
    if type(s) is float:  # a Python scalar changes neither shape nor dtype (NEP 50: it promotes weakly)
        return a
    return Array(np.broadcast_shapes(a.shape, np.shape(s)), np.result_type(a.dtype, getattr(s, "dtype", s)))


def _scale_transpose(lin: Any, dom: tuple[int, ...], s: Any) -> Any:
    cod = np.broadcast_shapes(dom, np.shape(s))
    m = scaled(lin, s, cod)
    return m if cod == dom else lin.compose([m, lin.linear(TABLE["sum_to"], {"shape": dom}, cod)])


register(Rule(
    "scale", 1, np.multiply, _scale_type, _elementwise_cost(CHEAP),
    transpose=_scale_transpose, params={"s": (1.0, p_float)}, elementwise=True,
    doc="the paper's scale s: multiply by s (a constant; inside derivatives, an array)",
))

register(Rule(
    "neg", 1, np.negative, _same_type("neg"), _elementwise_cost(CHEAP),
    transpose=lambda lin, dom: lin.linear(TABLE["neg"], {}, dom), elementwise=True, doc="-x",
))


def _broadcast_type(name: str) -> Any:
    def rule(dom: Type) -> Type:
        a, b = want_arrays(name, dom, 2)
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise TermTypeError(f"{name}: shapes {a} and {b} do not broadcast") from None
        return Array(shape, np.result_type(a.dtype, b.dtype))

    return rule


def binary(name: str, impl: Any, deriv: Any, k: float = CHEAP, doc: str = "") -> Rule:
    """A broadcasting binary map; ``deriv(a, b, y)`` gives the two diagonals (∂/∂a, ∂/∂b)."""

    def d(lin: Any, x: tuple, y: Any) -> Any:
        (a, b), (da, db) = x, deriv(*x, y)
        return lin.join([scaled(lin, da, a.shape), scaled(lin, db, b.shape)])

    return register(Rule(name, 2, impl, _broadcast_type(name), _elementwise_cost(k),
                         deriv=d, doc=doc))


def _tie_mask(winner: Any, a: Any, b: Any) -> Any:
    """1 where ``a`` wins, ½ at ties, 0 where ``b`` wins (JAX's convention)."""
    dtype = np.result_type(a.dtype, b.dtype)
    return winner.astype(dtype) + 0.5 * (a == b).astype(dtype)


binary("mul", np.multiply, lambda a, b, y: (b, a), CHEAP, "a·b")
binary("div", np.divide, lambda a, b, y: (1 / b, -y / b), CHEAP, "a / b")


def _maximum(a: Any, b: Any, y: Any) -> tuple[Any, Any]:
    m = _tie_mask(a > b, a, b)
    return m, 1 - m


def _minimum(a: Any, b: Any, y: Any) -> tuple[Any, Any]:
    m = _tie_mask(a < b, a, b)
    return m, 1 - m


binary("maximum", np.maximum, _maximum, CHEAP, "elementwise max; ties split the derivative evenly")
binary("minimum", np.minimum, _minimum, CHEAP, "elementwise min; ties split the derivative evenly")


def _sum_back(lin: Any, cod: tuple[int, ...], dom: tuple[int, ...]) -> Any:
    """``sum_to`` from ``cod`` back to ``dom``, or the identity when nothing was broadcast."""
    return lin.id() if cod == dom else lin.linear(TABLE["sum_to"], {"shape": dom}, cod)


def _add_transpose(lin: Any, dom: tuple, sign: float) -> Any:
    (sa, sb) = dom
    cod = np.broadcast_shapes(sa, sb)
    second = _sum_back(lin, cod, sb)
    if sign < 0:
        second = lin.compose([lin.linear(TABLE["neg"], {}, cod), second])
    return lin.fork([_sum_back(lin, cod, sa), second])


register(Rule(
    "add", 2, np.add, _broadcast_type("add"), _elementwise_cost(CHEAP),
    transpose=lambda lin, dom: _add_transpose(lin, dom, 1.0), doc="a + b",
))
register(Rule(
    "sub", 2, np.subtract, _broadcast_type("sub"), _elementwise_cost(CHEAP),
    transpose=lambda lin, dom: _add_transpose(lin, dom, -1.0), doc="a - b",
))
