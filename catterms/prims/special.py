"""scipy.special's functions as primitives: error functions and the normal distribution's (``ndtr``,
``log_ndtr``, ``ndtri``), Γ and its relatives (``gamma``, ``rgamma``, ``gammasgn``, log-gamma and its
derivatives, ``beta``, ``betaln``), Bessel functions, the incomplete gamma and beta functions, Student's t
distribution function ``stdtr``, logit, xlogy, and ``weighted_logsumexp`` (scipy's ``logsumexp`` with
weights ``b``).

The implementations are scipy's own ufuncs, so derivative rules written with them emit code on
placeholders unchanged (:mod:`catterms.codegen`): ``gammaln′ = digamma``, ``digamma′ = polygamma(1)``
and, for ``n ≥ 1``, ``polygamma(n) = (−1)ⁿ⁺¹ n! ζ(n + 1, x)`` with the Hurwitz ``zeta`` ufunc — scipy's own
formula, which also keeps float32 float32 (``scipy.special.polygamma`` itself returns float64).
Conventions follow JAX: ``xlogy′ = (log y, x/y)`` and ``xlog1py′ = (log1p y, x/(1 + y))``, also where
``x = 0``.

Orders and shape parameters that scipy (and autograd) do not differentiate — ``iv``'s ``v``, ``jv``'s and
``yn``'s order, ``gammainc``'s ``a``, ``betainc``'s ``a`` and ``b``, ``stdtr``'s ``df`` — are parameters
(:func:`p_order`: a number, or an array of them stored as nested tuples, which broadcasts with ``x`` as
scipy's arguments do), so no term can carry a tangent into them. Result dtypes are what scipy's ufunc gives
for those operands (``yn(2, float32)`` is float64, ``jv(2, float32)`` float32). Bessel derivatives use the
recurrences: ``J′ᵥ = (Jᵥ₋₁ − Jᵥ₊₁)/2``, ``I′ᵥ = (Iᵥ₋₁ + Iᵥ₊₁)/2``, ``ive′ = (iveᵥ₋₁ + iveᵥ₊₁)/2 − sign(x)·ive``
(``sign′(0) = 0``, as JAX), and ``J₁′``, ``Y₁′``, ``I₁′`` the same with ``jv``/``yn``/``iv`` of order 2.

Costs were measured against ``np.exp`` (numpy 2.4, scipy 1.17): ``erf`` and ``xlogy`` about 4–7 ``exp``s
per element (``TRANSCENDENTAL``), as are ``j0``, ``j1`` and ``gammasgn``; ``erfinv``, ``erfcinv``,
``gammaln``, ``digamma``, ``logit``, ``gamma``, ``rgamma``, ``y0``, ``y1``, ``ndtr``, ``log_ndtr`` and
``ndtri`` 10–25 (``SLOW``); ``i0``, ``i1``, ``yn``, ``beta``, ``betaln``, ``betainc``, ``gammainc`` and
``gammaincc`` 45–85 (``HEAVY``); ``zeta``, ``iv``, ``ive``, ``jv`` and ``stdtr`` 150–290 (``ZETA``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.special as sc

from ..errors import TermTypeError
from ..types import Array, Type, broadcast_shapes
from .elementwise import SLOW, binary, diagonal, piecewise, scaled, unary
from .reductions import AXIS_PARAMS, _reduced
from .table import (
    FLOAT,
    TABLE,
    TRANSCENDENTAL,
    Rule,
    applied,
    norm_axes,
    of_kind,
    p_float,
    p_int,
    register,
    want_arrays,
    want_float,
)

#: Hurwitz zeta's cost per element, as measured (about 240 ``exp``s); ``iv``, ``jv`` and ``stdtr`` are alike.
ZETA = 24 * SLOW
#: About 50 ``exp``s per element (measured: ``i0``, ``yn``, ``betaln``, ``gammainc``).
HEAVY = 5 * SLOW

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2 * math.pi)

unary("erf", sc.erf, lambda x, y: (2 / _SQRT_PI) * np.exp(-(x * x)), TRANSCENDENTAL, "the error function")
unary("erfc", sc.erfc, lambda x, y: (-2 / _SQRT_PI) * np.exp(-(x * x)), TRANSCENDENTAL,
      "1 − erf(x), accurate for large x")
unary("erfinv", sc.erfinv, lambda x, y: (_SQRT_PI / 2) * np.exp(y * y), SLOW, "the inverse of erf on (−1, 1)")
unary("gammaln", sc.gammaln, lambda x, y: sc.psi(x), SLOW, "log |Γ(x)|")
unary("logit", sc.logit, lambda x, y: 1 / (x * (1 - x)), SLOW, "log(x / (1 − x)), the inverse of sigmoid")
binary("xlogy", sc.xlogy, lambda a, b, y: (np.log(b), a / b), TRANSCENDENTAL, "a·log(b), 0 where a = 0", FLOAT)
binary("xlog1py", sc.xlog1py, lambda a, b, y: (np.log1p(b), a / (1 + b)), TRANSCENDENTAL,
       "a·log(1 + b), 0 where a = 0", FLOAT)
unary("erfcinv", sc.erfcinv, lambda x, y: (-_SQRT_PI / 2) * np.exp(y * y), SLOW, "the inverse of erfc on (0, 2)")
unary("ndtr", sc.ndtr, lambda x, y: (1 / _SQRT_2PI) * np.exp(-0.5 * (x * x)), SLOW,
      "the standard normal distribution function Φ(x)")
# Φ′/Φ as exp(log φ − log Φ): finite far in the lower tail, where φ and Φ both underflow
unary("log_ndtr", sc.log_ndtr, lambda x, y: (1 / _SQRT_2PI) * np.exp(-0.5 * (x * x) - y), SLOW,
      "log Φ(x), accurate in both tails")
unary("ndtri", sc.ndtri, lambda x, y: _SQRT_2PI * np.exp(0.5 * (y * y)), SLOW, "Φ⁻¹, the inverse of ndtr on (0, 1)")
unary("gamma", sc.gamma, lambda x, y: y * sc.psi(x), SLOW, "Γ(x)")
unary("rgamma", sc.rgamma, lambda x, y: -y * sc.psi(x), SLOW, "1/Γ(x), 0 at the poles of Γ")
piecewise("gammasgn", sc.gammasgn, TRANSCENDENTAL, "the sign of Γ(x)")
# order 2.0, not 2: a float order keeps float32 float32 (scipy's yn(2, ·) picks its integer-order loop, float64)
unary("j0", sc.j0, lambda x, y: -sc.j1(x), TRANSCENDENTAL, "the Bessel function J₀")
unary("j1", sc.j1, lambda x, y: 0.5 * (sc.j0(x) - sc.jv(2.0, x)), TRANSCENDENTAL, "the Bessel function J₁")
unary("y0", sc.y0, lambda x, y: -sc.y1(x), SLOW, "the Bessel function of the second kind Y₀ (x > 0)")
unary("y1", sc.y1, lambda x, y: 0.5 * (sc.y0(x) - sc.yn(2.0, x)), SLOW,
      "the Bessel function of the second kind Y₁ (x > 0)")
unary("i0", sc.i0, lambda x, y: sc.i1(x), HEAVY, "the modified Bessel function I₀")
unary("i1", sc.i1, lambda x, y: 0.5 * (sc.i0(x) + sc.iv(2.0, x)), HEAVY, "the modified Bessel function I₁")


def _beta_shares(a: Any, b: Any) -> tuple[Any, Any]:
    """``(ψ(a) − ψ(a + b), ψ(b) − ψ(a + b))``: the gradient of ``log B(a, b)``."""
    both = sc.psi(a + b)
    return sc.psi(a) - both, sc.psi(b) - both


def _beta_deriv(a: Any, b: Any, y: Any) -> tuple[Any, Any]:
    da, db = _beta_shares(a, b)
    return y * da, y * db


binary("beta", sc.beta, _beta_deriv, HEAVY, "B(a, b) = Γ(a)Γ(b)/Γ(a + b)", FLOAT)
binary("betaln", sc.betaln, lambda a, b, y: _beta_shares(a, b), HEAVY, "log |B(a, b)|", FLOAT)


def p_order(v: Any) -> Any:
    """A constant order or shape parameter: a number, or an array of numbers as nested tuples (the hashable
    form the wire format also decodes to). Both as floats, so that equal orders make equal terms whatever
    they were written as; scipy's loops give the same dtypes for either, but for ``yn``'s integer order."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return p_float(v)
    arr = np.asarray(v)
    if arr.dtype.kind not in "iuf":
        raise TypeError("expected numbers")
    if not np.all(np.isfinite(arr)):
        raise ValueError("expected finite numbers (NaN would make the term unequal to itself)")
    return float(arr) if arr.ndim == 0 else _nested(arr.astype(np.float64).tolist())


def _nested(v: Any) -> Any:
    return tuple(_nested(c) for c in v) if isinstance(v, list) else v


@lru_cache(maxsize=256)
def _value(v: Any) -> Any:
    """A :func:`p_order` parameter as the operand scipy takes: the number, or the (read-only) array."""
    if not isinstance(v, tuple):
        return v
    arr = np.asarray(v)
    arr.flags.writeable = False
    return arr


def _folded(v: Any) -> Any:
    """A constant computed from scalar parameters as a Python float, so it promotes weakly (NEP 50) and
    keeps float32 float32; arrays stay arrays."""
    return float(v) if np.ndim(v) == 0 else v


def _ordered_type(name: str, ufunc: Any, orders: tuple[str, ...]) -> Callable[..., Type]:
    def rule(dom: Type, **params: Any) -> Type:
        x = want_float(name, dom)
        vs = [_value(params[o]) for o in orders]
        try:
            shape = broadcast_shapes(*(np.shape(v) for v in vs), x.shape)
        except ValueError:
            raise TermTypeError(f"{name}: the shapes of {', '.join(orders)} {[np.shape(v) for v in vs]} and of x "
                                f"{x} do not broadcast") from None
        probe = [v if not isinstance(v, np.ndarray) else np.zeros((), v.dtype) for v in vs]
        with np.errstate(all="ignore"):
            return Array(shape, np.asarray(ufunc(*probe, np.zeros((), x.dtype))).dtype)

    return rule


def ordered(name: str, ufunc: Any, orders: tuple[str, ...], deriv: Callable[..., Any], k: float, doc: str) -> Rule:
    """``ufunc(*orders, x)``, differentiable in ``x`` only: the orders are :func:`p_order` parameters, and
    ``deriv(*orders, x, y)`` gives the diagonal of the derivative in ``x`` (at the broadcast shape)."""
    return register(Rule(
        name, 1, lambda x, **p: ufunc(*(_value(p[o]) for o in orders), x), _ordered_type(name, ufunc, orders),
        lambda dom, cod, **p: k * cod.size,
        deriv=lambda lin, x, y, **p: scaled(lin, deriv(*(_value(p[o]) for o in orders), x, y), x.shape),
        params=dict.fromkeys(orders, (1, p_order)), doc=doc,
    ))


def _gammainc_deriv(a: Any, x: Any, y: Any) -> Any:
    """``xᵃ⁻¹ e⁻ˣ / Γ(a)``, in logs (``xlogy`` keeps ``a = 1`` exact at ``x = 0``)."""
    return np.exp(sc.xlogy(a - 1, x) - x - _folded(sc.gammaln(a)))


def _betainc_deriv(a: Any, b: Any, x: Any, y: Any) -> Any:
    """``xᵃ⁻¹ (1 − x)ᵇ⁻¹ / B(a, b)``, in logs."""
    return np.exp(sc.xlogy(a - 1, x) + sc.xlog1py(b - 1, -x) - _folded(sc.betaln(a, b)))


def _stdtr_deriv(df: Any, t: Any, y: Any) -> Any:
    """Student's t density with ``df`` degrees of freedom at ``t``."""
    half = (df + 1) / 2
    log_norm = _folded(sc.gammaln(half) - sc.gammaln(df / 2) - 0.5 * np.log(df * np.pi))
    return np.exp(log_norm - half * np.log1p(t * t / df))


ordered("iv", sc.iv, ("v",), lambda v, x, y: 0.5 * (sc.iv(v - 1, x) + sc.iv(v + 1, x)), ZETA,
        "the modified Bessel function Iᵥ(x) of real order v (a constant)")
ordered("ive", sc.ive, ("v",), lambda v, x, y: 0.5 * (sc.ive(v - 1, x) + sc.ive(v + 1, x)) - np.sign(x) * y, ZETA,
        "Iᵥ(x)·e^(−|x|), the exponentially scaled Iᵥ, of real order v (a constant)")
ordered("jv", sc.jv, ("v",), lambda v, x, y: 0.5 * (sc.jv(v - 1, x) - sc.jv(v + 1, x)), ZETA,
        "the Bessel function Jᵥ(x) of real order v (a constant)")
def _yn(n: Any, x: Any) -> Any:
    """scipy's ``yn`` on an integer order, its own loop (float64 results, as scipy gives ``yn(2, float32)``)."""
    return sc.yn(int(n) if isinstance(n, float) else n.astype(np.int64), x)


ordered("yn", _yn, ("n",), lambda n, x, y: 0.5 * (_yn(n - 1, x) - _yn(n + 1, x)), HEAVY,
        "the Bessel function of the second kind Yₙ(x) of integer order n (a constant), x > 0")
ordered("gammainc", sc.gammainc, ("a",), _gammainc_deriv, HEAVY,
        "the regularized lower incomplete gamma function P(a, x), a > 0 a constant")
ordered("gammaincc", sc.gammaincc, ("a",), lambda a, x, y: -_gammainc_deriv(a, x, y), HEAVY,
        "the regularized upper incomplete gamma function Q(a, x) = 1 − P(a, x), a > 0 a constant")
ordered("betainc", sc.betainc, ("a", "b"), _betainc_deriv, HEAVY,
        "the regularized incomplete beta function I_x(a, b), a, b > 0 constants, 0 ≤ x ≤ 1")
ordered("stdtr", sc.stdtr, ("df",), _stdtr_deriv, ZETA,
        "Student's t distribution function with df > 0 degrees of freedom (a constant) at t")


def _polygamma(x: Any, n: int) -> Any:
    """The ``n``-th derivative of digamma, from ufuncs only (so it runs on placeholders too)."""
    if n == 0:
        return sc.psi(x)
    # n! as scipy takes it, a float (inf past 170!): never the exact integer, which a hostile n could make huge
    return (-1.0) ** (n + 1) * float(sc.gamma(n + 1.0)) * sc.zeta(n + 1.0, x)


def _polygamma_type(dom: Type, n: int) -> Type:
    if n < 0:
        raise TermTypeError(f"polygamma: the order n must be ≥ 0, got {n}")
    return want_float("polygamma", dom)


register(Rule(
    "polygamma", 1, _polygamma, _polygamma_type,
    lambda dom, cod, n: (SLOW if n == 0 else ZETA) * cod.size,
    deriv=lambda lin, x, y, n: scaled(lin, applied("polygamma", x, n=n + 1), x.shape),
    params={"n": (0, p_int)}, doc="ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n = 0: digamma)",
))


def _broadcast_reduced(dom: Type, axis: Any, keepdims: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shape ``a`` and ``b`` broadcast to, and the axes reduced over it."""
    a, b = (of_kind("weighted_logsumexp", p, FLOAT) for p in want_arrays("weighted_logsumexp", dom, 2))
    try:
        shape = broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise TermTypeError(f"weighted_logsumexp: shapes {a} and {b} do not broadcast") from None
    axes = norm_axes("weighted_logsumexp", axis, len(shape))
    if any(shape[i] == 0 for i in axes):
        raise TermTypeError(f"weighted_logsumexp: cannot reduce over an empty axis of shape {shape}")
    return shape, axes


def _weighted_logsumexp(a: Any, b: Any, axis: Any, keepdims: bool) -> Any:
    shape = broadcast_shapes(a.shape, b.shape)
    a = np.broadcast_to(a, shape)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) slices: avoid inf - inf
    y = m + np.log(np.sum(b * np.exp(a - m), axis=axis, keepdims=True))
    return y if keepdims else y.reshape(_reduced(shape, norm_axes("weighted_logsumexp", axis, len(shape)), False))


def _weighted_logsumexp_type(dom: Type, axis: Any, keepdims: bool) -> Type:
    shape, axes = _broadcast_reduced(dom, axis, keepdims)
    assert isinstance(dom, tuple)  # _broadcast_reduced has checked: two arrays
    return Array(_reduced(shape, axes, keepdims), np.result_type(*(p.dtype for p in dom)))


def _weighted_logsumexp_deriv(lin: Any, x: tuple, y: Any, axis: Any, keepdims: bool) -> Any:
    """``(tₐ, t_b) ↦ Σ (b·tₐ + t_b)·e^(a − y)`` over the axes: a weighted sum of each tangent, broadcast."""
    a, b = x
    shape, axes = _broadcast_reduced((Array(a.shape, a.dtype), Array(b.shape, b.dtype)), axis, keepdims)
    soft = np.exp(a - (y if keepdims else y.reshape(_reduced(shape, axes, True))))
    total = lin.linear(TABLE["sum"], {"axis": axis, "keepdims": keepdims}, shape)
    return lin.join([lin.compose([diagonal(lin, w, v, shape), total]) for v, w in ((a, b * soft), (b, soft))])


register(Rule(
    "weighted_logsumexp", 2, _weighted_logsumexp, _weighted_logsumexp_type,
    lambda dom, cod, **p: TRANSCENDENTAL * max(a.size for a in dom),
    deriv=_weighted_logsumexp_deriv, params=AXIS_PARAMS,
    doc="(a, b) ↦ log Σ b·eᵃ over axis (all if None), computed stably; a and b broadcast",
))
