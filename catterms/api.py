"""The public entry points: evaluate and differentiate a term at a point.

Each call normalises the input, type-checks the term against it (cached per term and input type), then
runs the term's interpretation in the right category — :data:`~catterms.evaluate.EVAL`,
:data:`~catterms.ad.FORWARD` or :data:`~catterms.ad.REVERSE` — built once per term.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .ad import FORWARD, REVERSE
from .category import headroom, interpreted
from .errors import TermTypeError
from .evaluate import EVAL
from .terms import Term
from .typecheck import infer
from .types import Array, Type, as_value, leaves, show, type_of
from .vectors import ZERO, materialize


def prepare(term: Term, x: Any) -> tuple[Any, Type, Type]:
    """Normalise ``x`` and type-check ``term`` on it: ``(x, domain, codomain)``."""
    if not isinstance(term, Term):
        raise TypeError(f"expected a Term, got {type(term).__name__}; build one with ct.compile or the builders")
    x = as_value(x)
    dom = type_of(x)
    cod = infer(term, dom)
    headroom(term)
    return x, dom, cod


def evaluate(term: Term, x: Any) -> Any:
    """The value of ``term`` at ``x``."""
    x, _, _ = prepare(term, x)
    return interpreted(term, EVAL)(x)


def jvp(term: Term, x: Any, dx: Any) -> tuple[Any, Any]:
    """Forward mode: ``(f x, 𝒟f x · dx)``."""
    x, dom, cod = prepare(term, x)
    dx = as_value(dx, dom)
    y, d = interpreted(term, FORWARD)(x)
    return y, materialize(d(dx), cod)


def vjp(term: Term, x: Any, dy: Any) -> tuple[Any, Any]:
    """Reverse mode: ``(f x, 𝒟f xᵀ · dy)``; the second component has ``x``'s structure."""
    x, dom, cod = prepare(term, x)
    dy = as_value(dy, cod)
    y, d = interpreted(term, REVERSE)(x)
    return y, materialize(d(dy), dom)


def value_and_grad(term: Term, x: Any) -> tuple[Any, Any]:
    """``(f x, ∇f x)`` for a term with a scalar output, by reverse mode."""
    x, dom, cod = prepare(term, x)
    if not (isinstance(cod, Array) and cod.shape == ()):
        raise TermTypeError(f"grad needs a scalar output, but the term returns {show(cod)}; use vjp or jacobian")
    y, d = interpreted(term, REVERSE)(x)
    return y, materialize(d(np.ones((), cod.dtype)), dom)


def grad(term: Term, x: Any) -> Any:
    """``∇f x`` for a term with a scalar output; the result has ``x``'s structure."""
    return value_and_grad(term, x)[1]


def _unflatten(t: Type, vals: list[Any]) -> Any:
    """Rebuild a value of type ``t`` from its leaves, left to right."""
    it = iter(vals)

    def build(s: Type) -> Any:
        return next(it) if isinstance(s, Array) else tuple(build(c) for c in s)

    return build(t)


def _flat_leaves(value: Any, t: Type) -> list[np.ndarray]:
    if isinstance(t, Array):
        return [np.asarray(value).reshape(-1)]
    return [a for v, c in zip(value, t) for a in _flat_leaves(v, c)]


def _basis(t: Type) -> list[tuple[int, int, Any]]:
    """The standard basis of an object: (leaf, element, vector), other leaves symbolic zeros."""
    ls = leaves(t)
    out = []
    for li, leaf in enumerate(ls):
        for k in range(leaf.size):
            e = np.zeros(leaf.size, leaf.dtype)
            e[k] = 1
            vals: list[Any] = [ZERO] * len(ls)
            vals[li] = e.reshape(leaf.shape)
            out.append((li, k, _unflatten(t, vals)))
    return out


def jacobian(term: Term, x: Any, mode: Literal["fwd", "rev"] = "rev") -> Any:
    """The Jacobian at ``x``: one forward pass per input element or one reverse pass per output element.

    For an array-to-array term the result has shape ``out.shape + in.shape``; with tuples it is nested
    as ``J[output leaf][input leaf]`` following both structures.
    """
    if mode not in ("fwd", "rev"):
        raise ValueError(f"mode must be 'fwd' or 'rev', got {mode!r}")
    x, dom, cod = prepare(term, x)
    ins, outs = leaves(dom), leaves(cod)
    blocks = [[np.zeros((o.size, i.size), np.result_type(o.dtype, i.dtype)) for i in ins] for o in outs]
    if mode == "fwd":
        _, d = interpreted(term, FORWARD)(x)
        for li, k, e in _basis(dom):
            for oi, col in enumerate(_flat_leaves(materialize(d(e), cod), cod)):
                blocks[oi][li][:, k] = col
    else:
        _, d = interpreted(term, REVERSE)(x)
        for oi, k, e in _basis(cod):
            for li, row in enumerate(_flat_leaves(materialize(d(e), dom), dom)):
                blocks[oi][li][k, :] = row
    shaped = [_unflatten(dom, [b.reshape(o.shape + i.shape) for b, i in zip(row, ins)]) for row, o in zip(blocks, outs)]
    return _unflatten(cod, shaped)
