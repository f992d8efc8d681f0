"""scipy.special's functions as primitives: error functions, log-gamma and its derivatives, logit, xlogy,
and ``weighted_logsumexp`` (scipy's ``logsumexp`` with weights ``b``).

The implementations are scipy's own ufuncs, so derivative rules written with them emit code on
placeholders unchanged (:mod:`catterms.codegen`): ``gammaln′ = digamma``, ``digamma′ = polygamma(1)``
and, for ``n ≥ 1``, ``polygamma(n) = (−1)ⁿ⁺¹ n! ζ(n + 1, x)`` with the Hurwitz ``zeta`` ufunc — scipy's own
formula, which also keeps float32 float32 (``scipy.special.polygamma`` itself returns float64).
Conventions follow JAX: ``xlogy′ = (log y, x/y)`` and ``xlog1py′ = (log1p y, x/(1 + y))``, also where
``x = 0``.

Costs were measured against ``np.exp`` (numpy 2.4, scipy 1.17): ``erf`` and ``xlogy`` about 4–7 ``exp``s
per element (``TRANSCENDENTAL``), ``erfinv``, ``gammaln``, ``digamma`` and ``logit`` 10–20 (``SLOW``),
``zeta`` about 240.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sc

from ..errors import TermTypeError
from ..types import Array, Type
from . import TABLE, TRANSCENDENTAL, Rule, norm_axes, p_int, register, want_array, want_arrays
from .elementwise import FLOAT, SLOW, binary, diagonal, of_kind, scaled, unary
from .reductions import AXIS_PARAMS, _reduced

#: Hurwitz zeta's cost per element, as measured (about 240 ``exp``s).
ZETA = 24 * SLOW

_SQRT_PI = math.sqrt(math.pi)

unary("erf", sc.erf, lambda x, y: (2 / _SQRT_PI) * np.exp(-(x * x)), TRANSCENDENTAL, "the error function")
unary("erfc", sc.erfc, lambda x, y: (-2 / _SQRT_PI) * np.exp(-(x * x)), TRANSCENDENTAL, "1 − erf(x), accurate for large x")
unary("erfinv", sc.erfinv, lambda x, y: (_SQRT_PI / 2) * np.exp(y * y), SLOW, "the inverse of erf on (−1, 1)")
unary("gammaln", sc.gammaln, lambda x, y: sc.psi(x), SLOW, "log |Γ(x)|")
unary("logit", sc.logit, lambda x, y: 1 / (x * (1 - x)), SLOW, "log(x / (1 − x)), the inverse of sigmoid")
binary("xlogy", sc.xlogy, lambda a, b, y: (np.log(b), a / b), TRANSCENDENTAL, "a·log(b), 0 where a = 0", FLOAT)
binary("xlog1py", sc.xlog1py, lambda a, b, y: (np.log1p(b), a / (1 + b)), TRANSCENDENTAL,
       "a·log(1 + b), 0 where a = 0", FLOAT)


def _polygamma(x: Any, n: int) -> Any:
    """The ``n``-th derivative of digamma, from ufuncs only (so it runs on placeholders too)."""
    if n == 0:
        return sc.psi(x)
    return (-1.0) ** (n + 1) * float(math.factorial(n)) * sc.zeta(n + 1.0, x)


def _polygamma_type(dom: Type, n: int) -> Type:
    if n < 0:
        raise TermTypeError(f"polygamma: the order n must be ≥ 0, got {n}")
    return of_kind("polygamma", want_array("polygamma", dom), FLOAT)


register(Rule(
    "polygamma", 1, _polygamma, _polygamma_type,
    lambda dom, cod, n: (SLOW if n == 0 else ZETA) * cod.size,
    deriv=lambda lin, x, y, n: scaled(lin, _polygamma(x, n + 1), x.shape),
    params={"n": (0, p_int)}, doc="ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n = 0: digamma)",
))


def _broadcast_reduced(dom: Type, axis: Any, keepdims: bool) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The shape ``a`` and ``b`` broadcast to, and the axes reduced over it."""
    a, b = (of_kind("weighted_logsumexp", p, FLOAT) for p in want_arrays("weighted_logsumexp", dom, 2))
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise TermTypeError(f"weighted_logsumexp: shapes {a} and {b} do not broadcast") from None
    axes = norm_axes("weighted_logsumexp", axis, len(shape))
    if any(shape[i] == 0 for i in axes):
        raise TermTypeError(f"weighted_logsumexp: cannot reduce over an empty axis of shape {shape}")
    return shape, axes


def _weighted_logsumexp(a: Any, b: Any, axis: Any, keepdims: bool) -> Any:
    shape = np.broadcast_shapes(a.shape, b.shape)
    a = np.broadcast_to(a, shape)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) slices: avoid inf - inf
    y = m + np.log(np.sum(b * np.exp(a - m), axis=axis, keepdims=True))
    return y if keepdims else y.reshape(_reduced(shape, norm_axes("weighted_logsumexp", axis, len(shape)), False))


def _weighted_logsumexp_type(dom: Type, axis: Any, keepdims: bool) -> Type:
    shape, axes = _broadcast_reduced(dom, axis, keepdims)
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
