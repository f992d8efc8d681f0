"""Elementwise mathematical functions with numpy's names: one primitive each, or a composition that costs
no more than a primitive would (each measured against numpy's own function, numpy 2.4, 300×300 float64):

* ``deg2rad``/``radians``/``rad2deg``/``degrees`` are ``scale`` by π/180 or 180/π, the same values as
  numpy's (which runs 7× slower than that multiply); ``fabs`` is ``abs`` of floats (numpy's is 7×
  slower than ``abs``); ``rint`` is ``round`` and ``fix`` is ``trunc``, the same values;
* ``positive``, and ``floor``/``ceil``/``trunc``/``fix``/``round`` of integers, are the array itself;
  ``square`` is ``pow 2``; ``clip`` with one bound is ``maximum`` or ``minimum`` (one pass, as ``np.clip``);
* ``divmod`` is ``(floor_divide, mod)``: two primitives, 1.8× the time of ``np.divmod``'s one pass,
  because a traced value cannot yet be a tuple that one primitive makes.

dtypes are numpy's: functions defined on floats convert integers and booleans to float64 first;
``abs``, ``sign``, ``square``, ``mod``, ``fmod``, ``floor_divide``, ``divmod``, ``fmax``, ``fmin``,
``clip``, ``reciprocal`` and ``power`` keep integers integral. Booleans where numpy would give float16 or
int8 (``np.sqrt(bool)``, ``np.square(bool)``) become float64, since catterms has neither dtype.
Non-smooth points follow JAX (:mod:`catterms.prims.elementwise`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..errors import TraceError
from ._arith import divide, multiply, power
from ._wrap import Tracer, apply, as_float, asarray, binary, dtype_of, named, no_out, unary

__all__ = [
    "abs", "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "around", "cbrt",
    "ceil", "clip", "cos", "cosh", "deg2rad", "degrees", "divmod", "exp", "exp2", "expm1", "fabs", "fix", "floor",
    "floor_divide", "fmax", "fmin", "fmod", "hypot", "log", "log10", "log1p", "log2", "logaddexp", "logaddexp2",
    "maximum", "minimum", "mod", "nan_to_num", "positive", "rad2deg", "radians", "reciprocal", "relu", "remainder",
    "rint", "round", "sigmoid", "sign", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "true_divide",
    "trunc",
]

exp = unary("exp")
exp2 = unary("exp2")
expm1 = unary("expm1")
log = unary("log")
log2 = unary("log2")
log10 = unary("log10")
log1p = unary("log1p")
sin = unary("sin")
cos = unary("cos")
tan = unary("tan")
arcsin = unary("arcsin")
arccos = unary("arccos")
arctan = unary("arctan")
sinh = unary("sinh")
cosh = unary("cosh")
tanh = unary("tanh")
arcsinh = unary("arcsinh")
arccosh = unary("arccosh")
arctanh = unary("arctanh")
sqrt = unary("sqrt")
cbrt = unary("cbrt")
sinc = unary("sinc")
relu = unary("relu")
sigmoid = unary("sigmoid")

arctan2 = binary("arctan2")
hypot = binary("hypot")
logaddexp = binary("logaddexp")
logaddexp2 = binary("logaddexp2")
maximum = binary("maximum", floats=False)
minimum = binary("minimum", floats=False)
fmax = binary("fmax", floats=False)
fmin = binary("fmin", floats=False)
mod = remainder = binary("mod", floats=False)
fmod = binary("fmod", floats=False)
floor_divide = binary("floor_divide", floats=False)
true_divide = divide


abs = absolute = unary("abs", floats=False)  # numpy's abs, sign and reciprocal keep integers integers
sign = unary("sign", floats=False)
reciprocal = unary("reciprocal", floats=False)


def fabs(x: Any) -> Any:
    """``|x|`` in floats: ``abs`` after integers are converted to float64, as numpy's ``fabs``."""
    return apply("abs", (as_float(x),))


def square(x: Any) -> Any:
    """``x ** 2`` (the primitive ``pow`` with ``p = 2``; integers stay integers)."""
    return power(x, 2)


def positive(x: Any) -> Any:
    """``+x``: the array itself (numpy's copy is nothing to an immutable term)."""
    if dtype_of(x).kind == "b":
        raise TraceError("cnp.positive is not defined on booleans (numpy refuses them too); convert first with "
                         "x.astype('int64')")
    return asarray(x)


_DEGREE = math.pi / 180


def deg2rad(x: Any) -> Any:
    """Degrees to radians: ``x · π/180`` (the primitive ``scale``)."""
    return multiply(as_float(x), _DEGREE)


def rad2deg(x: Any) -> Any:
    """Radians to degrees: ``x · 180/π`` (the primitive ``scale``)."""
    return multiply(as_float(x), 1 / _DEGREE)


radians = deg2rad
degrees = rad2deg


def _to_integer(prim: str, name: str) -> Callable[..., Any]:
    """``floor``, ``ceil``, ``trunc``: a primitive on floats; integers and booleans are already whole."""

    def f(x: Any, out: Any = None) -> Any:
        no_out(name, out)
        return apply(prim, (x,)) if dtype_of(x).kind == "f" else asarray(x)

    return named(f, name, prim)


floor = _to_integer("floor", "floor")
ceil = _to_integer("ceil", "ceil")
trunc = _to_integer("trunc", "trunc")
fix = _to_integer("trunc", "fix")


def round(a: Any, decimals: int = 0, out: Any = None) -> Any:
    """``a`` rounded to ``decimals`` places, halves to even (the primitive ``round``); integers are already
    whole unless ``decimals`` is negative (tens, hundreds…)."""
    no_out("round", out)
    if isinstance(decimals, Tracer) or isinstance(decimals, bool) or not hasattr(decimals, "__index__"):
        raise TraceError(f"cnp.round: decimals must be a constant integer, got {decimals!r}")
    kind = dtype_of(a).kind
    if kind == "i" and decimals >= 0:
        return asarray(a)
    return apply("round", (a if kind == "i" else as_float(a),), decimals=int(decimals))


def around(a: Any, decimals: int = 0, out: Any = None) -> Any:
    """numpy's older name for :func:`round`."""
    return round(a, decimals, out)


def rint(x: Any) -> Any:
    """``x`` rounded to the nearest integer, halves to even: ``round`` with no decimals (integers become
    float64, as numpy's ``rint`` makes them)."""
    return apply("round", (as_float(x),), decimals=0)


_UNSET: Any = object()


def _bound(which: str, old: Any, new: Any) -> Any:
    """One bound of ``clip``, given positionally (``a_min``) or by numpy 2's keyword (``min``); None if absent."""
    if old is not _UNSET and new is not _UNSET:
        raise TraceError(f"cnp.clip: pass a_{which} or {which}=, not both")
    value = new if old is _UNSET else old
    return None if value is _UNSET else value


def clip(a: Any, a_min: Any = _UNSET, a_max: Any = _UNSET, out: Any = None, *, min: Any = _UNSET,
         max: Any = _UNSET) -> Any:
    """``a`` limited to ``[a_min, a_max]`` (either may be None, an array or traced; ``min=``/``max=`` as in
    numpy 2): the primitive ``clip``, or ``maximum``/``minimum`` when only one bound is given."""
    no_out("clip", out)
    lo, hi = _bound("min", a_min, min), _bound("max", a_max, max)
    if lo is None and hi is None:
        return asarray(a)
    if lo is None:
        return minimum(a, hi)
    if hi is None:
        return maximum(a, lo)
    return apply("clip", (a, lo, hi))


def _replacement(name: str, value: Any) -> Any:
    if value is not None and (isinstance(value, Tracer) or not isinstance(value, (int, float))):
        raise TraceError(f"cnp.nan_to_num: {name}= must be a constant number, got {value!r}")
    return None if value is None else float(value)


def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Any:
    """NaN replaced by ``nan`` and ±inf by ``posinf``/``neginf`` (None: the dtype's largest finite values);
    integers and booleans are returned as they are. ``copy`` is moot: a term never writes its input."""
    if dtype_of(x).kind != "f":
        return asarray(x)
    return apply("nan_to_num", (x,), nan=_replacement("nan", nan), posinf=_replacement("posinf", posinf),
                 neginf=_replacement("neginf", neginf))


def divmod(a: Any, b: Any) -> tuple[Any, Any]:
    """``(a // b, a % b)``: ``floor_divide`` and ``mod``."""
    return floor_divide(a, b), mod(a, b)
