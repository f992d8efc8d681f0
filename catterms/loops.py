"""Loops as combinators: ``ct.scan`` and ``ct.fori_loop``, a body traced once instead of unrolled.

A loop's body is traced once, at the types of one step, into a term; the loop is one ``scan`` node of
the term language holding it (:mod:`catterms.control`), whatever the step count, so a long program
compiles in the time of its body. Its derivatives are loops again. Carries and inputs may be arrays,
Python or numpy scalars, and nested tuples or lists of them, mixing float, integer and boolean leaves; the
body may close over traced values of the enclosing ``ct.compile`` (they become the loop's constants,
read by every step, and their derivative flows through them). Called on values outside ``ct.compile``,
the loop runs at once and returns arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .boundary import boundary
from .control import leaves_of, packed
from .errors import TermTypeError, TraceError
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
        new = _carried(out[0], carry_tree, carry_t, what)
        ys, y_tree = ([], None) if out[1] is None else _flatten(out[1], f"{what}: the y the body returns")
        out_tree.append(_ABSENT if out[1] is None else y_tree)
        return packed([*new, *ys]) if new or ys else _no_output(what)

    body, caps = _traced(step, (Array((), "int64"), *carry_t, *rows), (), 1)
    result = apply("scan", (np.int64(start), *caps, *carry, *inputs), body=body, nconst=len(caps),
                   ncarry=len(carry), length=n, reverse=reverse)
    parts = list(leaves_of(result))
    last = _unflatten(carry_tree, parts[:len(carry)])
    ys = None if out_tree[0] is _ABSENT else _unflatten(out_tree[0], parts[len(carry):])
    return last, ys


def _traced(fn: Callable[..., Any], specs: tuple, pre: tuple, at: int) -> tuple[Any, tuple]:
    """``fn`` traced into a term on flat leaves, and the traced values of enclosing functions it closes over
    (first the tracers of ``pre``, captured whether it reads them or not, so that two branches share one
    list); the captures become inputs of the term at position ``at`` (a loop's constants, after its index)."""
    from .frontend.lower import lower
    from .frontend.trace import trace
    from .frontend.tracer import current

    def run(*args: Any) -> Any:
        graph = current()
        assert graph is not None  # trace() is recording this very call
        for t in pre:
            graph.capture(t)
        return fn(*args)

    traced = trace(run, specs)
    inputs: Any = traced.inputs  # (arguments, captures) when it closes over traced values
    args = inputs[0] if traced.captures else inputs
    args = args if isinstance(args, tuple) else (args,)
    caps = traced.captures
    if caps:
        nodes = inputs[1] if len(caps) > 1 else (inputs[1],)
        args = (*args[:at], *nodes, *args[at:])
    return lower(args[0] if len(args) == 1 else args, traced.root), tuple(caps)


def _carried(value: Any, tree: Tree, types: list[Array], what: str) -> list[Any]:
    """The leaves of the carry a body returns, once it is checked to have the structure, shapes and dtypes
    of the carry the body takes."""
    new, new_tree = _flatten(value, f"{what}: the carry the body returns")
    new_t = [_type(c) for c in new]
    if new_tree != tree or new_t != types:
        raise TermTypeError(f"{what}: the body must return the carry as it takes it, {_show(tree, types)}, but "
                            f"returns {_show(new_tree, new_t)} (cast with astype, or start from the type the body "
                            "makes)")
    return new


def _no_output(what: str) -> Any:
    raise TraceError(f"{what}: the loop neither carries nor returns anything")


def _show(tree: Tree, types: list[Array]) -> str:
    """A carry's type as messages write it (lists shown as the products they are)."""
    it = iter(types)

    def build(t: Tree) -> Type:
        return next(it) if t is None else tuple(build(c) for c in t[1])

    return show(build(tree))


def _length(x_t: list[Array], length: Any, what: str) -> int:
    if length is not None and (isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0):
        raise TermTypeError(f"{what}: length must be a non-negative int, got {length!r}")
    if any(not t.shape for t in x_t):
        raise TermTypeError(f"{what}: every input in xs needs a leading axis to scan over; got a scalar")
    leads = {t.shape[0] for t in x_t}
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


@boundary
def scan(f: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False) -> tuple[Any, Any]:
    """``jax.lax.scan``'s semantics: ``f(carry, x) -> (carry, y)`` over the leading axis of every array in
    ``xs`` (an array, a nested tuple of arrays, or None with ``length``); returns ``(last carry, ys)`` with
    each ``y`` stacked along a new leading axis (None if the body returns ``y = None``). ``reverse`` runs
    from the last row to the first (``ys`` still in row order). The carry must come back with the
    structure, shapes and dtypes it went in with."""
    return _loop(lambda i, c, x: f(c, x), init, xs, length, reverse, 0, "ct.scan")


@boundary
def cond(pred: Any, true_fn: Callable[..., Any], false_fn: Callable[..., Any], *operands: Any) -> Any:
    """``jax.lax.cond``: ``true_fn(*operands)`` if the boolean scalar ``pred`` holds, else
    ``false_fn(*operands)``; only the taken branch runs, and each branch's derivative is right where it is
    taken. Both must return the same structure, shapes and dtypes. The branches may close over traced
    values; with no operands they are functions of no arguments."""
    from .frontend.tracer import apply

    leaves, tree = _flatten(operands, "ct.cond: the operands")
    pred_t = _type(pred)
    if pred_t.shape != () or pred_t.dtype != "bool":
        raise TermTypeError(f"ct.cond: the predicate must be a boolean scalar, got {pred_t} (compare, e.g. "
                            "x > 0, and reduce an array with cnp.all or cnp.any; for elementwise choice use "
                            "cnp.where)")
    if isinstance(pred, bool):
        pred = np.bool_(pred)  # not a Python number: those take the other operands' dtype
    given = bool(leaves)
    leaves = leaves if given else [pred]  # a term has no inputless branch: it reads the predicate, ignored
    specs = tuple(_type(v) for v in leaves)
    out_trees: dict[str, Tree] = {}

    def branch(fn: Callable[..., Any], key: str) -> Callable[..., Any]:
        def run(*ls: Any) -> Any:
            out = fn(*_unflatten(tree, list(ls))) if given else fn()
            ys, out_trees[key] = _flatten(out, f"ct.cond: the {key} branch's result")
            return packed(ys)

        return run

    true, caps = _traced(branch(true_fn, "true"), specs, (), len(leaves))
    false, both = _traced(branch(false_fn, "false"), specs, caps, len(leaves))
    if len(both) > len(caps):  # the false branch reads more: the true one takes those as inputs too
        true, _ = _traced(branch(true_fn, "true"), specs, both, len(leaves))
    if out_trees["true"] != out_trees["false"]:
        raise TermTypeError("ct.cond: the branches must return the same structure (the same tuples and lists "
                            "of arrays)")
    result = apply("cond", (pred, *leaves, *both), true=true, false=false)
    return _unflatten(out_trees["true"], list(leaves_of(result)))


@boundary
def while_loop(cond_fun: Callable[[Any], Any], body_fun: Callable[[Any], Any], init: Any,
               max_steps: int | None = None) -> Any:
    """``jax.lax.while_loop``: ``carry = body_fun(carry)`` while ``cond_fun(carry)`` (a boolean scalar)
    holds; returns the last carry. The stop depends on the data. Values and forward mode always; reverse
    mode (``ct.grad``, ``ct.vjp``) too, given ``max_steps``, a bound on the steps: the carries are kept for
    the way back (a loop that reaches the bound with its condition still true raises
    :class:`~catterms.errors.EvaluationError`)."""
    from .frontend.tracer import apply

    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer))
                                  or max_steps < 0):
        raise TermTypeError(f"ct.while_loop: max_steps must be a non-negative int or None, got {max_steps!r}")
    carry, tree = _flatten(init, "ct.while_loop: the initial carry")
    specs = tuple(_type(c) for c in carry)

    def test(*ls: Any) -> Any:
        out = cond_fun(_unflatten(tree, list(ls)))
        t = _type(out)
        if t.shape != () or t.dtype != "bool":
            raise TermTypeError(f"ct.while_loop: the condition must return a boolean scalar, got {t} (reduce "
                                "an array with cnp.all or cnp.any)")
        return out

    def step(*ls: Any) -> Any:
        return packed(_carried(body_fun(_unflatten(tree, list(ls))), tree, list(specs), "ct.while_loop"))

    cond_t, caps = _traced(test, specs, (), 0)
    body_t, both = _traced(step, specs, caps, 0)
    if len(both) > len(caps):
        cond_t, _ = _traced(test, specs, both, 0)
    result = apply("while", (np.int64(0), *both, *carry), cond=cond_t, body=body_t, nconst=len(both),
                   max_steps=None if max_steps is None else int(max_steps))
    return _unflatten(tree, list(leaves_of(result))[1:])


@boundary
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

