"""Plain numpy on traced arrays: numpy's protocols hand ``np.sin(x)``, ``np.sum(x, axis=0)`` and
``np.linalg.norm(x)`` to us, and we look the function up by its name in :mod:`catterms.numpy`.

numpy calls :meth:`Tracer.__array_ufunc__ <catterms.frontend.tracer.Tracer.__array_ufunc__>` for a
ufunc (``np.sin``, ``np.add``, and ``ndarray <op> tracer``) and ``__array_function__`` for any other
numpy function given a traced argument. Both land here; the name — ``numpy.linalg.norm`` is ``linalg.norm``
— is looked up in :mod:`catterms.numpy` (scipy.special's ufuncs in :mod:`catterms.scipy.special`), so that
package stays the one place that maps names to primitives, and a plain-numpy function compiles to the same
term as its ``cnp`` spelling. What has no counterpart raises :class:`~catterms.errors.TraceError` naming
numpy's function.

Those packages, and the front end's indexing, are built on the tracer, which calls this module: they are above
both, so they are not imported here but register themselves when imported (:func:`provide`), and
``import catterms`` imports all of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import TraceError

#: ufunc names numpy gives that catterms.numpy spells otherwise.
_ALIASES = {"true_divide": "divide", "bitwise_not": "logical_not"}

#: ufunc methods that are a catterms.numpy reduction or scan: (ufunc name, method) -> function name.
_METHODS = {
    ("add", "reduce"): "sum", ("multiply", "reduce"): "prod", ("maximum", "reduce"): "max",
    ("minimum", "reduce"): "min", ("logical_and", "reduce"): "all", ("logical_or", "reduce"): "any",
    ("add", "accumulate"): "cumsum", ("multiply", "accumulate"): "cumprod",
}

#: Keyword arguments of a ufunc call that say nothing beyond numpy's defaults.
_NEUTRAL = {"out": None, "where": True, "casting": "same_kind", "order": "K", "subok": True, "dtype": None}

#: The modules built on the tracer that it calls, as they registered themselves: ``"numpy"`` (catterms.numpy),
#: ``"scipy.special"`` (catterms.scipy.special) and ``"indexing"`` (:mod:`.indexing`).
_PROVIDED: dict[str, ModuleType] = {}


def provide(name: str, module: ModuleType) -> None:
    """Register ``module`` under ``name`` (one of those above), from its own end."""
    _PROVIDED[name] = module


class Provided:
    """The module registered under ``name``, read at each use (``cnp.add`` in the tracer's operators)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(_PROVIDED[self.name], attr)


cnp, indexing = Provided("numpy"), Provided("indexing")


def ours(path: str) -> Callable[..., Any] | None:
    """catterms.numpy's function at ``path`` (``"sum"``, ``"linalg.norm"``), or None. Only what the package
    itself defines counts — not numpy's own objects, which it also lends out (``cnp.pi``): numpy's function
    given back here would dispatch to itself."""
    found: Any = _PROVIDED["numpy"]
    for part in path.split("."):
        found = vars(found).get(part) if isinstance(found, ModuleType) else None
        if found is None or getattr(found, "__module__", "").startswith("numpy"):
            return None
    return found if callable(found) else None


@cache
def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def call(what: str, fn: Callable[..., Any] | None, args: tuple, kwargs: dict[str, Any]) -> Any:
    """``fn(*args, **kwargs)`` for numpy's ``what``; a missing function or arguments it does not take are a
    :class:`TraceError` naming ``what`` (never a raw ``TypeError``)."""
    if fn is None:
        raise TraceError(f"{what} is not supported on traced arrays: catterms.numpy has no counterpart; write it "
                         "with the functions catterms.numpy offers (docs/numpy.md lists them)")
    sig = _signature(fn)
    if sig is not None:
        try:
            sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TraceError(f"{what} on traced arrays takes {fn.__name__}{sig}: {e}") from None
    return fn(*args, **kwargs)


def _scipy_ufunc(ufunc: np.ufunc) -> Callable[..., Any] | None:
    """The catterms.scipy.special function for one of scipy.special's ufuncs."""
    try:
        import scipy.special
    except ImportError:
        return None
    name = ufunc.__name__
    ours = getattr(_PROVIDED["scipy.special"], name, None)
    return ours if getattr(scipy.special, name, None) is ufunc else None


def ufunc(uf: np.ufunc, method: str, inputs: tuple, kwargs: dict[str, Any]) -> Any:
    """A ufunc (or one of its methods) applied to traced arrays."""
    name = uf.__name__
    if method != "__call__":
        target = _METHODS.get((name, method))
        what = f"numpy.{name}.{method}"
        if target is None or len(inputs) != 1:
            return call(what, None, inputs, kwargs)
        if method == "reduce":
            kwargs = {"axis": 0, **kwargs}  # a ufunc reduces axis 0 by default, unlike np.sum
        return call(what, ours(target), inputs, kwargs)
    what = f"numpy.{name}"
    extra = {k: v for k, v in kwargs.items() if not (k in _NEUTRAL and _NEUTRAL[k] is v)}
    if extra.get("out") is not None:
        raise TraceError(f"{what}(..., out=...) writes into an array; traced arrays are immutable: use the result")
    if extra:
        raise TraceError(f"{what} on traced arrays takes no {', '.join(sorted(extra))}= argument")
    fn = ours(_ALIASES.get(name, name)) if getattr(np, name, None) is uf else _scipy_ufunc(uf)
    return call(what, fn, inputs, {})


def function(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
    """Any other numpy function given a traced argument (``np.sum``, ``np.where``, ``np.linalg.norm``)."""
    module = getattr(func, "__module__", "") or ""
    path = ".".join([*module.split(".")[1:], func.__name__]) if module.startswith("numpy") else func.__name__
    if func in (np.shape, np.ndim, np.size) and len(args) == 1 and not kwargs:
        return getattr(args[0], func.__name__)  # static facts are known at compile time
    return call(f"numpy.{path}", ours(path), args, kwargs)
