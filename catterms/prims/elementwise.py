"""Elementwise primitives: unary maps, broadcasting binary maps, ``clip``, ``scale`` and ``pow``.

Derivatives are diagonal, so each is a ``scale`` by an array (paper §4.6: ``sinC = D (λa.(sin a, scale
(cos a)))``); a binary primitive's derivative is a join of two scales (``mulC``: ``scale b ▽ scale a``).
Broadcasting is part of ``scale``: ``t ↦ s·t`` may grow ``t``'s shape, and its transpose then sums back
(``sum_to``), so no primitive needs its own unbroadcasting code. An integer operand has no tangent, so its
slot of the join is the zero map. Rounding (``floor``, ``round``, ``sign``, ``floor_divide``…) is locally
constant: :func:`~catterms.prims.no_derivative`.

Each row says which dtypes it takes: functions defined on floats refuse integers (the front end converts
them first, as numpy does); ``abs``, ``sign``, ``mod``, ``clip``, ``maximum``… keep integers integral.

Non-smooth points follow JAX: ``abs′(0) = 0``, ``relu′(0) = 0``; ``maximum``/``minimum``/``fmax``/``fmin``
give each argument half the derivative at ties, and ``clip`` is ``minimum(maximum(x, lo), hi)`` with those
ties; ``mod′ = (1, −floor(a/b))`` and ``fmod′ = (1, −trunc(a/b))``; ``sinc′(0) = 0``; ``hypot′(0, 0) = 0``
(as ``abs′(0)``); ``power(x, p)`` has ``∂/∂x = 0`` where ``p = 0`` and ``∂/∂p = 0`` where ``x = 0``;
``sqrt′(0)``, ``log′(0)``, ``cbrt′(0)`` and ``pow′(0)`` for exponents below 1 are ``inf``, as numpy
computes them.

Costs: a multiply is 1 and ``exp`` about 8 (``TRANSCENDENTAL``); :data:`SLOW` rows measured about ten
times ``exp``'s time per element (numpy 2.4: ``hypot``, ``logaddexp``, ``mod``, ``floor_divide``,
``sinc``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codegen import staged
from ..types import Array, Type, broadcast_shapes
from .table import (
    ANY,
    CHEAP,
    FLOAT,
    NUMERIC,
    TABLE,
    TRANSCENDENTAL,
    Rule,
    broadcast_shape,
    no_derivative,
    of_kind,
    p_float,
    p_int,
    register,
    want_array,
    want_arrays,
)

#: Element operations that cost about ten ``exp``s (measured: ``np.mod``, ``np.hypot``, ``scipy.special.gammaln``).
SLOW = 10 * TRANSCENDENTAL

def scaled(lin: Any, s: Any, dom: tuple[int, ...]) -> Any:
    """The linear map ``t ↦ s·t`` on tangents of shape ``dom`` (``s`` may broadcast ``t`` larger)."""
    return lin.linear(TABLE["scale"], {"s": s}, dom)


def diagonal(lin: Any, s: Any, x: Any, cod: tuple[int, ...]) -> Any:
    """``t ↦ s·t`` from the tangents of operand ``x`` to those of a result of shape ``cod``: the zero map for
    an integer operand (it has no tangent); a scalar ``s`` broadcasts ``t`` first (``broadcast_to``, whose
    transpose sums back), and ``s = 1`` is that broadcast alone."""
    if x.dtype.kind != "f":
        return lin.zero()
    unit = isinstance(s, float) and s == 1.0
    if broadcast_shapes(x.shape, np.shape(s)) == cod:
        return lin.id() if unit else scaled(lin, s, x.shape)
    widen = lin.linear(TABLE["broadcast_to"], {"shape": cod}, x.shape)
    return widen if unit else lin.compose([widen, scaled(lin, s, cod)])


def _same_type(name: str, kinds: str = ANY) -> Any:
    return lambda dom, **params: of_kind(name, want_array(name, dom), kinds)


def _elementwise_cost(k: float) -> Any:
    return lambda dom, cod, **p: k * (cod.size if isinstance(cod, Array) else 1)


def unary(name: str, impl: Any, deriv: Any, k: float = CHEAP, doc: str = "", kinds: str = FLOAT) -> Rule:
    """A smooth elementwise map; ``deriv(x, y)`` gives the diagonal of its derivative."""
    return register(Rule(
        name, 1, impl, _same_type(name, kinds), _elementwise_cost(k),
        deriv=lambda lin, x, y: scaled(lin, deriv(x, y), x.shape), doc=doc,
    ))


def piecewise(name: str, impl: Any, k: float, doc: str, kinds: str = FLOAT, params: dict | None = None) -> Rule:
    """A locally constant elementwise map (rounding, sign): its derivative is zero wherever it exists."""
    return register(Rule(name, 1, impl, _same_type(name, kinds), _elementwise_cost(k), deriv=no_derivative,
                         params=params or {}, doc=doc))


LN2, LN10 = float(np.log(2)), float(np.log(10))

unary("exp", np.exp, lambda x, y: y, TRANSCENDENTAL, "eˣ")
unary("exp2", np.exp2, lambda x, y: y * LN2, TRANSCENDENTAL, "2ˣ")
unary("expm1", np.expm1, lambda x, y: y + 1, TRANSCENDENTAL, "eˣ − 1, accurate near 0")
unary("log", np.log, lambda x, y: 1 / x, TRANSCENDENTAL, "natural logarithm")
unary("log2", np.log2, lambda x, y: 1 / (x * LN2), TRANSCENDENTAL, "base-2 logarithm")
unary("log10", np.log10, lambda x, y: 1 / (x * LN10), TRANSCENDENTAL, "base-10 logarithm")
unary("log1p", np.log1p, lambda x, y: 1 / (1 + x), TRANSCENDENTAL, "log(1 + x), accurate near 0")
unary("sin", np.sin, lambda x, y: np.cos(x), TRANSCENDENTAL, "sine")
unary("cos", np.cos, lambda x, y: -np.sin(x), TRANSCENDENTAL, "cosine")
unary("tan", np.tan, lambda x, y: 1 + y * y, TRANSCENDENTAL, "tangent")
unary("arcsin", np.arcsin, lambda x, y: 1 / np.sqrt((1 - x) * (1 + x)), TRANSCENDENTAL, "inverse sine")
unary("arccos", np.arccos, lambda x, y: -1 / np.sqrt((1 - x) * (1 + x)), TRANSCENDENTAL, "inverse cosine")
unary("arctan", np.arctan, lambda x, y: 1 / (1 + x * x), TRANSCENDENTAL, "inverse tangent")
unary("tanh", np.tanh, lambda x, y: 1 - y * y, TRANSCENDENTAL, "hyperbolic tangent")
unary("sinh", np.sinh, lambda x, y: np.cosh(x), TRANSCENDENTAL, "hyperbolic sine")
unary("cosh", np.cosh, lambda x, y: np.sinh(x), TRANSCENDENTAL, "hyperbolic cosine")
unary("arcsinh", np.arcsinh, lambda x, y: 1 / np.sqrt(x * x + 1), TRANSCENDENTAL, "inverse hyperbolic sine")
unary("arccosh", np.arccosh, lambda x, y: 1 / np.sqrt((x - 1) * (x + 1)), TRANSCENDENTAL,
      "inverse hyperbolic cosine (x ≥ 1)")
unary("arctanh", np.arctanh, lambda x, y: 1 / ((1 - x) * (1 + x)), TRANSCENDENTAL, "inverse hyperbolic tangent")
unary("sqrt", np.sqrt, lambda x, y: 0.5 / y, TRANSCENDENTAL, "square root")
unary("cbrt", np.cbrt, lambda x, y: 1 / (3 * y * y), TRANSCENDENTAL, "cube root")
def _sinc_deriv(x: Any, y: Any) -> Any:
    """``sinc′ = (cos πx − sinc x)/x``; at 0 both sides of the quotient are 0 and dividing by 1 there gives
    JAX's 0. A derivative term, which may be differentiated again, adds the Maclaurin term ``−π²x/3`` at 0
    (also 0, so the numbers are the same) to make ``sinc′``'s own derivative there ``sinc″(0) = −π²/3``."""
    d = (np.cos(np.pi * x) - y) / (x + (x == 0))
    return d - (np.pi ** 2 / 3) * (x == 0) * x if staged(x) is not None else d


unary("sinc", np.sinc, _sinc_deriv, SLOW, "sin(πx)/(πx), 1 at 0")
unary("reciprocal", np.reciprocal, lambda x, y: -(y * y), CHEAP, "1/x (integer division for integers, as numpy)",
      NUMERIC)
unary("abs", np.abs, lambda x, y: np.sign(x), CHEAP, "absolute value; abs′(0) = 0", ANY)
unary("relu", lambda x: np.maximum(x, 0), lambda x, y: (x > 0).astype(x.dtype), CHEAP, "max(x, 0); relu′(0) = 0")
unary("sigmoid", lambda x: 0.5 * (np.tanh(0.5 * x) + 1), lambda x, y: y * (1 - y), TRANSCENDENTAL,
      "logistic function 1/(1+e⁻ˣ), computed stably")

piecewise("sign", np.sign, CHEAP, "−1, 0 or 1 by the sign (NaN for NaN)", NUMERIC)
piecewise("floor", np.floor, CHEAP, "the largest integer ≤ x")
piecewise("ceil", np.ceil, CHEAP, "the smallest integer ≥ x")
piecewise("trunc", np.trunc, CHEAP, "x rounded toward zero")
piecewise("round", np.round, CHEAP, "x rounded to decimals places, halves to even (negative: tens, hundreds…)",
          NUMERIC, {"decimals": (0, p_int)})


def _opt_float(v: Any) -> float | None:
    return None if v is None else p_float(v)


register(Rule(
    "nan_to_num", 1, np.nan_to_num, _same_type("nan_to_num", FLOAT), _elementwise_cost(TRANSCENDENTAL),
    deriv=lambda lin, x, y, **p: scaled(lin, np.isfinite(x).astype(x.dtype), x.shape),
    params={"nan": (0.0, p_float), "posinf": (None, _opt_float), "neginf": (None, _opt_float)},
    doc="NaN and ±inf replaced by nan, posinf and neginf (None: the dtype's largest finite values); "
        "derivative 1 where x is finite, else 0",
))


def _pow(x: Any, p: float) -> Any:
    if p == 2:
        return np.square(x)
    return np.power(x, int(p) if x.dtype.kind == "i" else p)  # an integer power of integers stays integral


def _pow_type(dom: Type, p: float) -> Type:
    a = want_array("pow", dom)
    if np.dtype(a.dtype).kind == "i" and p >= 0 and p == int(p):
        return a
    return of_kind("pow", a, FLOAT)


def _pow_deriv(lin: Any, x: Any, p: float) -> Any:
    """``t ↦ p · x^(p−1) · t``, the scalar ``p`` as a map of its own, applied last: reverse mode applies
    it first, to a cotangent that is often known (a gradient's seed, scaled), where it folds away; and
    for squares ``x^(p−1)`` is ``x`` itself, so no residual is computed. ``x⁰`` is constant: its derivative
    is zero everywhere, also at ``x = 0`` where ``0 · x⁻¹`` would be NaN (JAX's convention)."""
    if p == 0:
        return lin.zero()
    factor = x if p == 2 else x ** (p - 1)
    return lin.compose([scaled(lin, factor, x.shape), scaled(lin, p, x.shape)])


register(Rule(
    "pow", 1, _pow, _pow_type, _elementwise_cost(TRANSCENDENTAL),
    deriv=lambda lin, x, y, p: _pow_deriv(lin, x, p),
    params={"p": (2.0, p_float)}, lazy=True,
    doc="xᵖ for a constant exponent p (integers stay integers for whole p ≥ 0)",
))


def _scale_type(dom: Type, s: Any) -> Type:
    a = want_array("scale", dom)
    if type(s) is float:  # a Python scalar changes neither shape nor dtype (NEP 50: it promotes weakly)
        return a
    return Array(broadcast_shapes(a.shape, np.shape(s)), np.result_type(a.dtype, getattr(s, "dtype", s)))


def _scale_transpose(lin: Any, dom: tuple[int, ...], s: Any) -> Any:
    cod = broadcast_shapes(dom, np.shape(s))
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


def _broadcast_type(name: str, kinds: str = ANY, n: int = 2) -> Any:
    def rule(dom: Type) -> Type:
        parts = [of_kind(name, a, kinds) for a in want_arrays(name, dom, n)]
        return Array(broadcast_shape(name, parts), np.result_type(*(a.dtype for a in parts)))

    return rule


def diagonals(lin: Any, x: tuple, ss: tuple, cod: tuple[int, ...]) -> Any:
    """The join of each operand's ``t ↦ s·t`` (zero for integer operands)."""
    return lin.join([diagonal(lin, s, v, cod) for v, s in zip(x, ss)])


def binary(name: str, impl: Any, deriv: Any, k: float = CHEAP, doc: str = "", kinds: str = ANY) -> Rule:
    """A broadcasting binary map; ``deriv(a, b, y)`` gives the two diagonals (∂/∂a, ∂/∂b)."""
    return register(Rule(name, 2, impl, _broadcast_type(name, kinds), _elementwise_cost(k),
                         deriv=lambda lin, x, y: diagonals(lin, x, deriv(*x, y), y.shape), doc=doc))


def _tie_mask(winner: Any, a: Any, b: Any) -> Any:
    """1 where ``a`` wins, ½ at ties, 0 where ``b`` wins (JAX's convention)."""
    dtype = np.result_type(a.dtype, b.dtype)
    return winner.astype(dtype) + 0.5 * (a == b).astype(dtype)


def _shares(winner: Any, a: Any, b: Any) -> tuple[Any, Any]:
    m = _tie_mask(winner, a, b)
    return m, 1 - m


def _hypot(a: Any, b: Any, y: Any) -> tuple[Any, Any]:
    r = y + (y == 0)  # at the origin a = b = 0, so dividing by 1 there gives 0, as abs′(0) = 0
    return a / r, b / r


def _arctan2(a: Any, b: Any, y: Any) -> tuple[Any, Any]:
    r = a * a + b * b
    return b / r, -a / r


def _power(x: Any, p: Any, y: Any) -> tuple[Any, Any]:
    # JAX's conventions: ∂/∂x is 0 wherever p = 0 (x^(0−1+1) = 1, so even at x = 0, where 0·x⁻¹ would be
    # NaN), and ∂/∂p = xᵖ·log x is 0 at x = 0 (log 1 there)
    return p * x ** (p - 1 + (p == 0)), y * np.log(x + (x == 0))


binary("mul", np.multiply, lambda a, b, y: (b, a), CHEAP, "a·b")
binary("div", np.divide, lambda a, b, y: (1 / b, -y / b), CHEAP, "a / b", FLOAT)
binary("power", np.power, _power, TRANSCENDENTAL, "aᵇ for a traced exponent b (pow is the constant one)", NUMERIC)
binary("maximum", np.maximum, lambda a, b, y: _shares(a > b, a, b), CHEAP,
       "elementwise max (NaN wins); ties split the derivative evenly")
binary("minimum", np.minimum, lambda a, b, y: _shares(a < b, a, b), CHEAP,
       "elementwise min (NaN wins); ties split the derivative evenly")
binary("fmax", np.fmax, lambda a, b, y: _shares(np.logical_or(a > b, np.isnan(b)), a, b), CHEAP,
       "elementwise max ignoring NaN; ties split the derivative evenly")
binary("fmin", np.fmin, lambda a, b, y: _shares(np.logical_or(a < b, np.isnan(b)), a, b), CHEAP,
       "elementwise min ignoring NaN; ties split the derivative evenly")
binary("mod", np.mod, lambda a, b, y: (1.0, -np.floor_divide(a, b)), SLOW,
       "a − floor(a/b)·b, the sign of b (Python's %)", NUMERIC)
binary("fmod", np.fmod, lambda a, b, y: (1.0, -np.trunc(a / b)), TRANSCENDENTAL,
       "a − trunc(a/b)·b, the sign of a (C's fmod)", NUMERIC)
binary("hypot", np.hypot, _hypot, SLOW, "√(a² + b²) without overflow", FLOAT)
binary("arctan2", np.arctan2, _arctan2, TRANSCENDENTAL, "the angle of the point (b, a): arctan(a/b) by quadrant",
       FLOAT)
binary("logaddexp", np.logaddexp, lambda a, b, y: (np.exp(a - y), np.exp(b - y)), SLOW,
       "log(eᵃ + eᵇ), computed stably", FLOAT)
binary("logaddexp2", np.logaddexp2, lambda a, b, y: (np.exp2(a - y), np.exp2(b - y)), SLOW,
       "log₂(2ᵃ + 2ᵇ), computed stably", FLOAT)
register(Rule(
    "floor_divide", 2, np.floor_divide, _broadcast_type("floor_divide", NUMERIC), _elementwise_cost(SLOW),
    deriv=no_derivative, doc="floor(a / b) (Python's //)",
))


def _clip_deriv(lin: Any, x: tuple, y: Any) -> Any:
    """``minimum(maximum(a, lo), hi)``'s derivative, ties split as in those two (JAX's ``clip``)."""
    a, lo, hi = x
    low = np.maximum(a, lo)
    inner, outer = _tie_mask(a > lo, a, lo), _tie_mask(low < hi, low, hi)
    return diagonals(lin, x, (inner * outer, (1 - inner) * outer, 1 - outer), y.shape)


register(Rule(
    "clip", 0, lambda x: np.clip(*x), _broadcast_type("clip", ANY, 3), _elementwise_cost(CHEAP),
    deriv=_clip_deriv, doc="(a, lo, hi) ↦ min(max(a, lo), hi), broadcasting all three",
))


def _sum_back(lin: Any, cod: tuple[int, ...], dom: tuple[int, ...]) -> Any:
    """``sum_to`` from ``cod`` back to ``dom``, or the identity when nothing was broadcast."""
    return lin.id() if cod == dom else lin.linear(TABLE["sum_to"], {"shape": dom}, cod)


def _add_transpose(lin: Any, dom: tuple, sign: float) -> Any:
    (sa, sb) = dom
    cod = broadcast_shapes(sa, sb)
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
