"""``catterms.scipy.special``: scipy.special's names on traced arrays, each a primitive of
:mod:`catterms.prims.special` (``expit`` is the primitive ``sigmoid``; ``digamma``, also spelled ``psi``, is
``polygamma`` with ``n = 0``; ``jn`` is scipy's other name for ``jv``). Integers are converted to float64
first, as scipy's ufuncs do. Where scipy gives float64 for float32 input (``polygamma``, ``multigammaln``),
catterms keeps float32; orders and shape parameters (``jv``'s ``v``, ``gammainc``'s ``a``) give scipy's dtypes.

Arguments that scipy and autograd do not differentiate (the orders of ``iv``, ``ive``, ``jv``/``jn`` and
``yn``; ``a`` of ``gammainc``/``gammaincc``; ``a`` and ``b`` of ``betainc``; ``df`` of ``stdtr``) must be
constants — numbers, ndarrays or constants of the trace — and broadcast with ``x`` as scipy's do; a traced
one is refused (:func:`constant_arg`) rather than given a wrong derivative. ``multigammaln`` is the sum of
``d`` ``gammaln`` calls, as scipy computes it, and does not check scipy's domain ``a > (d − 1)/2``."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from ..errors import TraceError
from ..frontend.dispatch import provide
from ..frontend.tracer import constant_value
from ..numpy import arange, expand_dims, reshape
from ..numpy import logsumexp as _logsumexp
from ..numpy import sum as _sum
from ..numpy._wrap import Tracer, apply, as_float, binary, named, operand_type, unary

__all__ = ["beta", "betainc", "betaln", "digamma", "erf", "erfc", "erfcinv", "erfinv", "expit", "gamma",
           "gammainc", "gammaincc", "gammaln", "gammasgn", "i0", "i1", "iv", "ive", "j0", "j1", "jn", "jv",
           "log_ndtr", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "rgamma",
           "stdtr", "xlog1py", "xlogy", "y0", "y1", "yn"]

erf = unary("erf")
erfc = unary("erfc")
erfinv = unary("erfinv")
gammaln = unary("gammaln")
logit = unary("logit")
expit = unary("sigmoid", "expit")
xlogy = binary("xlogy")
xlog1py = binary("xlog1py")
erfcinv = unary("erfcinv")
ndtr = unary("ndtr")
log_ndtr = unary("log_ndtr")
ndtri = unary("ndtri")
gamma = unary("gamma")
rgamma = unary("rgamma")
gammasgn = unary("gammasgn")
j0 = unary("j0")
j1 = unary("j1")
y0 = unary("y0")
y1 = unary("y1")
i0 = unary("i0")
i1 = unary("i1")
beta = binary("beta")
betaln = binary("betaln")


def constant_arg(what: str, arg: str, v: Any, wrt: str = "x", integral: bool = False) -> Any:
    """``v``, an argument of ``what`` that has no derivative, as the constant it must be: a number or an
    array (a constant of the trace is read back); a traced array, or anything but finite numbers, is a
    :class:`TraceError` saying what to pass instead."""
    value = constant_value(v)
    if value is None:
        raise TraceError(f"{what} is differentiable in {wrt} only; pass {arg} as a constant (a number or an "
                         "ndarray), not a traced array")
    v = value
    arr = np.asarray(v) if not isinstance(v, (int, float)) else None
    bad = isinstance(v, bool) or (arr is not None and (arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr))))
    if bad or (arr is None and not math.isfinite(v)):
        raise TraceError(f"{what}: {arg} must be finite numbers, got {v!r}")
    if integral and not np.all(np.trunc(v) == v):
        raise TraceError(f"{what}: {arg} must be integers, got {v!r}")
    return v


def _ordered(prim: str, orders: tuple[str, ...], integral: bool = False) -> Any:
    def f(*args: Any) -> Any:
        *vs, x = args
        consts = {o: constant_arg(f"catterms.scipy.special.{prim}", o, v, integral=integral)
                  for o, v in zip(orders, vs)}
        return apply(prim, (as_float(x),), **consts)

    return f


def iv(v: Any, x: Any) -> Any:
    """The modified Bessel function ``Iᵥ(x)`` of real order ``v``, a constant (the primitive ``iv``)."""
    return _ordered("iv", ("v",))(v, x)


def ive(v: Any, x: Any) -> Any:
    """``Iᵥ(x)·e^(−|x|)``, of real order ``v``, a constant (the primitive ``ive``)."""
    return _ordered("ive", ("v",))(v, x)


def jv(v: Any, x: Any) -> Any:
    """The Bessel function ``Jᵥ(x)`` of real order ``v``, a constant (the primitive ``jv``)."""
    return _ordered("jv", ("v",))(v, x)


jn = named(lambda n, x: jv(n, x), "jn", doc="scipy's other name for :func:`jv` (``Jₙ(x)``).")


def yn(n: Any, x: Any) -> Any:
    """The Bessel function of the second kind ``Yₙ(x)`` of integer order ``n``, a constant (the primitive
    ``yn``)."""
    return _ordered("yn", ("n",), integral=True)(n, x)


def gammainc(a: Any, x: Any) -> Any:
    """The regularized lower incomplete gamma function ``P(a, x)`` for a constant ``a > 0`` (the primitive
    ``gammainc``)."""
    return _ordered("gammainc", ("a",))(a, x)


def gammaincc(a: Any, x: Any) -> Any:
    """The regularized upper incomplete gamma function ``Q(a, x)`` for a constant ``a > 0`` (the primitive
    ``gammaincc``)."""
    return _ordered("gammaincc", ("a",))(a, x)


def betainc(a: Any, b: Any, x: Any) -> Any:
    """The regularized incomplete beta function ``I_x(a, b)`` for constants ``a, b > 0`` (the primitive
    ``betainc``)."""
    return _ordered("betainc", ("a", "b"))(a, b, x)


def stdtr(df: Any, t: Any) -> Any:
    """Student's t distribution function at ``t`` with a constant ``df > 0`` (the primitive ``stdtr``)."""
    return _ordered("stdtr", ("df",))(df, t)


def multigammaln(a: Any, d: int) -> Any:
    """``log Γ_d(a) = d(d − 1)/4 · log π + Σⱼ gammaln(a − j/2)`` over ``j < d``, for a static integer ``d``
    (``d`` ``gammaln`` calls, as scipy computes it)."""
    if isinstance(d, (Tracer, bool)) or not hasattr(d, "__index__") or d < 1:
        raise TraceError(f"catterms.scipy.special.multigammaln: d must be a constant integer ≥ 1, got {d!r}")
    d = int(d)
    shifted = expand_dims(as_float(a), -1) - arange(d) / 2
    return _sum(gammaln(shifted), axis=-1) + d * (d - 1) / 4 * math.log(math.pi)


def polygamma(n: int, x: Any) -> Any:
    """``ψ⁽ⁿ⁾(x)``, the ``n``-th derivative of digamma, for a constant integer ``n ≥ 0`` (the primitive
    ``polygamma``)."""
    if isinstance(n, (Tracer, bool)) or not hasattr(n, "__index__") or n < 0:
        raise TraceError(f"catterms.scipy.special.polygamma: n must be a constant integer ≥ 0, got {n!r}; "
                         "for several orders call it once per order")
    return apply("polygamma", (as_float(x),), n=int(n))


def digamma(x: Any) -> Any:
    """``ψ(x) = d/dx log Γ(x)`` (the primitive ``polygamma`` with ``n = 0``)."""
    return polygamma(0, x)


psi = named(lambda x: digamma(x), "psi", doc="scipy's other name for :func:`digamma`.")


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False) -> Any:
    """``log Σ b·exp(a)`` over ``axis`` (all if None), computed stably; ``b`` broadcasts with ``a`` and may
    be negative where the sum stays positive (NaN where it does not, as scipy). Without ``b`` it is the
    primitive ``logsumexp``; with it ``weighted_logsumexp``."""
    if return_sign:
        raise TraceError("catterms.scipy.special.logsumexp: return_sign=True is not supported; choose weights b "
                         "whose weighted sum is positive and leave return_sign out")
    if operand_type(a).ndim == 0:
        a = reshape(a, (1,))  # scipy reads a scalar as a 1-vector: axis=0 applies, keepdims keeps (1,)
    if b is None:
        return _logsumexp(a, axis=axis, keepdims=keepdims)
    return apply("weighted_logsumexp", (as_float(a), as_float(b)), axis=axis, keepdims=keepdims)


provide("scipy.special", sys.modules[__name__])  # scipy.special's ufuncs on a traced array call this module
