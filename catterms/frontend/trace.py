"""Stage 1, driver: call the user's function on tracers and collect the traced DAG.

A spec is a :class:`~catterms.types.Array`, an example ndarray or Python or numpy scalar (its shape and
dtype: ``3`` is an int64 scalar, ``0.5`` a float64 one), or a tuple or list of specs (a nested argument,
a product, received as a tuple of tracers — or a list, for a list, as in JAX). A function of
n ≥ 2 arguments is traced on the n-tuple of them, a one-argument function on the bare value; an input
is reached by its path of ``(i, n)`` projections.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..errors import TermTypeError, TraceError
from ..types import Array, Type, type_of
from .graph import Graph, Node
from .tracer import Tracer, captured, constant, current, tracing

Inputs = Node | tuple


class Traced(NamedTuple):
    inputs: Inputs  # the input nodes, nested like the domain (captures, if any, as a last component)
    root: Node  # the result
    dom: Type  # the arguments' type, without the captures
    captures: tuple  # tracers of enclosing ct.compile calls the function closes over, in order


def spec_type(spec: Any) -> Type:
    """The object a spec describes."""
    if isinstance(spec, Array):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) >= 2:
        return tuple(spec_type(s) for s in spec)
    if isinstance(spec, (np.ndarray, np.generic, bool, int, float)):
        try:
            return type_of(spec)
        except TermTypeError as e:
            raise TraceError(f"spec {_brief(spec)}: {e}") from None
    raise TraceError(f"a spec is ct.Array(shape, dtype), an example ndarray or scalar, or a tuple or list of at "
                     f"least two specs (a product); got {_brief(spec)}")


def _brief(spec: Any) -> str:
    """A spec as an error names it: arrays by dtype and shape (an example may be large)."""
    if isinstance(spec, np.ndarray):
        return f"ndarray of dtype {spec.dtype.name} and shape {spec.shape}"
    text = repr(spec)
    return text if len(text) <= 80 else text[:77] + "..."


def _arguments(graph: Graph, t: Type, path: tuple, spec: Any) -> tuple[Any, Inputs]:
    """Tracers for an argument of type ``t`` at ``path``, and the matching input nodes; a product given as a
    list reaches the function as a list (of tracers), as it would in JAX or autograd."""
    if isinstance(t, Array):
        node = graph.input(path, t)
        return Tracer(graph, node), node
    parts = spec if isinstance(spec, (tuple, list)) else (None,) * len(t)
    pairs = [_arguments(graph, c, path + ((i, len(t)),), s) for i, (c, s) in enumerate(zip(t, parts))]
    container = list if isinstance(spec, list) else tuple
    return container(p[0] for p in pairs), tuple(p[1] for p in pairs)


def _result(graph: Graph, out: Any) -> Node:
    if isinstance(out, Tracer):
        if out.graph is not graph and not graph.within(out.graph):
            raise TraceError("the function returned a value traced by a different ct.compile call")
        return captured(graph, out).node
    if isinstance(out, tuple):
        return graph.tuple(tuple(_result(graph, o) for o in out))
    if isinstance(out, list):
        raise TraceError("return a tuple, not a list: products are Python tuples")
    if out is None:
        raise TraceError("the function returned None; it must return an array or a tuple of arrays")
    return graph.const(constant(out))


def _check_arity(fn: Callable[..., Any], n: int) -> None:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # builtins and some callables have no signature; calling them will tell
    try:
        signature.bind(*([None] * n))
    except TypeError as e:
        name = getattr(fn, "__name__", "the function")
        raise TraceError(f"{name} cannot be called with {n} argument(s), one per spec: {e}") from None


def trace(fn: Callable[..., Any], specs: tuple[Any, ...]) -> Traced:
    """Run ``fn`` on tracers built from ``specs`` and return its DAG."""
    if not callable(fn):
        raise TraceError(f"ct.compile takes a function, got {type(fn).__name__}")
    if not specs:
        raise TraceError("ct.compile needs one spec per argument of the function (ct.Array or an example array)")
    types = [spec_type(s) for s in specs]
    _check_arity(fn, len(types))
    graph = Graph(current())
    n = len(types)
    made = [_arguments(graph, t, () if n == 1 else ((i, n),), s) for i, (t, s) in enumerate(zip(types, specs))]
    try:
        with tracing(graph):
            out = fn(*(m[0] for m in made))
            root = _result(graph, out)
    finally:
        graph.open = False
    inputs = made[0][1] if n == 1 else tuple(m[1] for m in made)
    if graph.captures:
        caps = [graph.capture(t) for t in graph.captures]
        inputs = (inputs, caps[0] if len(caps) == 1 else tuple(caps))
    return Traced(inputs, root, types[0] if n == 1 else tuple(types), tuple(graph.captures))
