"""``catterms.scipy.special``: scipy.special's names on traced arrays, each a primitive of
:mod:`catterms.prims.special` (``expit`` is the primitive ``sigmoid``; ``digamma``, also spelled ``psi``, is
``polygamma`` with ``n = 0``). Integers are converted to float64 first, as scipy's ufuncs do. Where scipy
gives float64 for float32 input (``polygamma``), catterms keeps float32."""

from __future__ import annotations

from typing import Any

from ..errors import TraceError
from ..numpy import logsumexp as _logsumexp
from ..numpy._wrap import Tracer, apply, as_float, binary, named, unary

__all__ = ["digamma", "erf", "erfc", "erfinv", "expit", "gammaln", "logit", "logsumexp", "polygamma", "psi",
           "xlog1py", "xlogy"]

erf = unary("erf")
erfc = unary("erfc")
erfinv = unary("erfinv")
gammaln = unary("gammaln")
logit = unary("logit")
expit = unary("sigmoid", "expit")
xlogy = binary("xlogy")
xlog1py = binary("xlog1py")


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
    if b is None:
        return _logsumexp(a, axis=axis, keepdims=keepdims)
    return apply("weighted_logsumexp", (as_float(a), as_float(b)), axis=axis, keepdims=keepdims)
