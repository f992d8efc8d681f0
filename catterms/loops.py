"""Loops as combinators: ``ct.scan`` and ``ct.fori_loop``, a body traced once instead of unrolled.

A loop's body is traced once, at the types of one step, into a term; the loop is one ``scan`` node of
the term language holding it (:mod:`catterms.prims.control`), whatever the step count, so a long program
compiles in the time of its body. Its derivatives are loops again. Carries and inputs may be arrays,
Python or numpy scalars, and nested tuples or lists of them, mixing float, integer and boolean leaves; the
body may close over traced values of the enclosing ``ct.compile`` (they become the loop's constants,
read by every step, and their derivative flows through them). Called on values outside ``ct.compile``,
the loop runs at once and returns arrays.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .errors import TermTypeError, TraceError
from .prims.control import leaves_of, packed
from .types import Array, Type, show

#: A value's structure: None for one array, else a list (True) or tuple (False) and the parts' structures.
Tree = Any

#: The structure of the ``y`` of a body that returns ``y = None``.
_ABSENT = object()


def _flatten(value: Any, what: str) -> tuple[list[Any], Tree]:
    """The leaves of a nested tuple or list of arrays and scalars, and its structure."""
    if isinstance(value, (tuple, list)):
        leaves: list[Any] = []
        trees = []
        for v in value:
            ls, t = _flatten(v, what)
            leaves += ls
            trees.append(t)
        return leaves, (isinstance(value, list), tuple(trees))
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TraceError(f"{what}: a loop carries arrays, scalars and tuples or lists of them, got "
                         f"{type(value).__name__}")
    return [value], None


def _unflatten(tree: Tree, leaves: list[Any]) -> Any:
    it = iter(leaves)

    def build(t: Tree) -> Any:
        if t is None:
            return next(it)
        parts = [build(c) for c in t[1]]
        return parts if t[0] else tuple(parts)

    return build(tree)


def _type(leaf: Any) -> Array:
    from .frontend.tracer import operand_type

    return operand_type(leaf)


def _loop(f: Callable[..., Any], init: Any, xs: Any, length: int | None, reverse: bool, start: int,
          what: str) -> tuple[Any, Any]:
    """``f(i, carry, x) -> (carry, y)`` run over the steps: ``(last carry, ys)``."""
    from .frontend.lower import lower
    from .frontend.trace import trace
    from .frontend.tracer import apply

    carry, carry_tree = _flatten(init, f"{what}: the initial carry")
    inputs, x_tree = ([], None) if xs is None else _flatten(xs, f"{what}: xs")
    carry_t = [_type(c) for c in carry]
    x_t = [_type(x) for x in inputs]
    n = _length(x_t, length, what)
    if not carry and not inputs:
        raise TraceError(f"{what}: a loop needs a carry or inputs xs (to build a sequence from the index "
                         "alone, scan over cnp.arange(n))")
    rows = [Array(t.shape[1:], t.dtype) for t in x_t]
    out_tree: list[Tree] = []

    def step(i: Any, *leaves: Any) -> Any:
        c = _unflatten(carry_tree, list(leaves[:len(carry)]))
        x = None if xs is None else _unflatten(x_tree, list(leaves[len(carry):]))
        out = f(i, c, x)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TraceError(f"{what}: the body must return a pair (carry, y), got {type(out).__name__}")
        new, new_tree = _flatten(out[0], f"{what}: the carry the body returns")
        new_t = [_type(c) for c in new]
        if new_tree != carry_tree or new_t != carry_t:
            raise TermTypeError(f"{what}: the body must return the carry as it takes it, "
                                f"{_show(carry_tree, carry_t)}, but returns {_show(new_tree, new_t)} (cast with "
                                "astype, or start from the type the body makes)")
        ys, y_tree = ([], None) if out[1] is None else _flatten(out[1], f"{what}: the y the body returns")
        out_tree.append(_ABSENT if out[1] is None else y_tree)
        return packed([*new, *ys]) if new or ys else _no_output(what)

    traced = trace(step, (Array((), "int64"), *carry_t, *rows))
    args = traced.inputs[0] if traced.captures else traced.inputs
    caps = traced.captures
    if caps:  # the captures come right after the index: the loop's constants
        cap_nodes = traced.inputs[1] if len(caps) > 1 else (traced.inputs[1],)
        args = (args[0], *cap_nodes, *args[1:])
    body = lower(args, traced.root)
    result = apply("scan", (np.int64(start), *caps, *carry, *inputs), body=body, nconst=len(caps),
                   ncarry=len(carry), length=n, reverse=reverse, save=True)
    parts = list(leaves_of(result))
    last = _unflatten(carry_tree, parts[:len(carry)])
    ys = None if out_tree[0] is _ABSENT else _unflatten(out_tree[0], parts[len(carry):len(parts) - len(carry)])
    return last, ys


def _no_output(what: str) -> Any:
    raise TraceError(f"{what}: the loop neither carries nor returns anything")


def _show(tree: Tree, types: list[Array]) -> str:
    """A carry's type as messages write it (lists shown as the products they are)."""
    it = iter(types)

    def build(t: Tree) -> Type:
        return next(it) if t is None else tuple(build(c) for c in t[1])

    return show(build(tree))


def _length(x_t: list[Array], length: int | None, what: str) -> int:
    if length is not None and (isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0):
        raise TermTypeError(f"{what}: length must be a non-negative int, got {length!r}")
    leads = {t.shape[0] if t.shape else None for t in x_t}
    if None in leads:
        raise TermTypeError(f"{what}: every input in xs needs a leading axis to scan over; got a scalar")
    if len(leads) > 1:
        raise TermTypeError(f"{what}: the inputs in xs have different leading axes {sorted(leads)}")
    if not leads:
        if length is None:
            raise TermTypeError(f"{what}: with no xs, say how many steps: length=")
        return int(length)
    (n,) = leads
    if length is not None and int(length) != n:
        raise TermTypeError(f"{what}: length={length} but xs have {n} rows")
    return int(n)


def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False) -> tuple[Any, Any]:
    """``jax.lax.scan``'s semantics: ``f(carry, x) -> (carry, y)`` over the leading axis of every array in
    ``xs`` (an array, a nested tuple of arrays, or None with ``length``); returns ``(last carry, ys)`` with
    each ``y`` stacked along a new leading axis (None if the body returns ``y = None``). ``reverse`` runs
    from the last row to the first (``ys`` still in row order). The carry must come back with the
    structure, shapes and dtypes it went in with."""
    return _loop(lambda i, c, x: f(c, x), init, xs, length, reverse, 0, "ct.scan")


def fori_loop(lower: int, upper: int, body: Callable[[Any, Any], Any], init: Any) -> Any:
    """``jax.lax.fori_loop``: ``body(i, carry) -> carry`` for ``i`` from ``lower`` to ``upper - 1`` (static
    bounds; ``i`` is a traced int64 scalar, usable as an index); returns the last carry."""
    for name, v in (("lower", lower), ("upper", upper)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TermTypeError(f"ct.fori_loop: {name} must be a Python int (static bounds), got "
                                f"{type(v).__name__}; a data-dependent stop needs ct.while_loop")
    steps = max(int(upper) - int(lower), 0)
    last, _ = _loop(lambda i, c, x: (body(i, c), None), init, None, steps, False, int(lower), "ct.fori_loop")
    return last

