"""The Python front end: ``ct.compile(fn, *specs)`` turns an ordinary Python function into a term.

Two stages, one module each:

1. **Tracing** (:mod:`.trace`, :mod:`.tracer`, :mod:`.graph`): ``fn`` runs once on tracers, written with
   Python operators and :mod:`catterms.numpy` — or plain numpy, which :mod:`.dispatch` hands to
   :mod:`catterms.numpy` by name; indexing is :mod:`.indexing`. It records a hash-consed DAG of primitive
   applications, typed by the primitives' own shape rules. Python control flow runs now (loops unroll).
2. **Lowering** (:mod:`.scopes`, :mod:`.lower`): the DAG becomes a point-free term in which a value used
   twice is computed once and copied, bound at the innermost point covering its uses, and independent
   computations are branches of forks. Term size is linear in the program's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..boundary import boundary
from ..errors import TraceError
from ..terms import Term
from .lower import lower
from .trace import trace

__all__ = ["compile"]


@boundary
def compile(fn: Callable[..., Any], *specs: Any) -> Term:
    """The term of ``fn`` on the given argument specs.

    Each spec is ``ct.Array(shape, dtype="float64")``, an example ndarray or a Python or numpy scalar (its
    shape and dtype: ``3`` is an int64 scalar, ``0.7`` a float64 one), or a tuple of specs. A
    function of n ≥ 2 arguments becomes a term on the n-tuple of them, a one-argument function a term on
    the bare value. ``fn`` may return an array or a (nested) tuple of arrays. Raises
    :class:`~catterms.errors.TraceError` for what cannot be traced (data-dependent control flow, numpy
    functions catterms does not support, mutation) and :class:`~catterms.errors.TermTypeError` for shape
    and dtype errors.
    """
    traced = trace(fn, specs)
    if traced.captures:
        raise TraceError("the function closes over values traced by an enclosing ct.compile call, which a term "
                         "cannot hold: pass them as arguments, or call ct.evaluate, ct.grad, ct.jvp… on the "
                         "function itself, which take them along")
    return lower(traced.inputs, traced.root)
