"""The public entry points: evaluate and differentiate a term at a point.

Each call normalises the input, type-checks the term against it, then runs the term's interpretation —
:data:`~catterms.evaluate.EVAL`, :data:`~catterms.ad.FORWARD` or :data:`~catterms.ad.REVERSE` —
compiled once per term and input type (:mod:`catterms.compiler`).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .compiler import program
from .errors import TermTypeError
from .terms import Term
from .typecheck import infer
from .types import Array, Type, as_tangent, as_value, differentiable, leaves, show, type_of


def prepare(term: Term, x: Any) -> tuple[Any, Type, Type]:
    """Normalise ``x`` and type-check ``term`` on it: ``(x, domain, codomain)``."""
    if not isinstance(term, Term):
        raise TypeError(f"expected a Term, got {type(term).__name__}; build one with ct.compile or the builders")
    x = as_value(x)
    dom = type_of(x)
    return x, dom, infer(term, dom)


def require_scalar(cod: Type, dom: Type) -> None:
    """A gradient is of a term with a float scalar output, with respect to an input that has a float part;
    refuse any other before anything runs."""
    if not (isinstance(cod, Array) and cod.shape == () and cod.differentiable):
        raise TermTypeError(f"grad needs a float scalar output, but the term returns {show(cod)}; "
                            "use vjp (a cotangent of the output's type) or jacobian")
    if not differentiable(dom):
        raise TermTypeError(f"grad with respect to {show(dom)}, which has no float part: integer and boolean "
                            "values have no derivative (pass floats, e.g. x.astype(float), to differentiate)")


def evaluate(term: Term, x: Any) -> Any:
    """The value of ``term`` at ``x``."""
    x, dom, _ = prepare(term, x)
    return program(term, dom, "value")(x)


def jvp(term: Term, x: Any, dx: Any) -> tuple[Any, Any]:
    """Forward mode: ``(f x, 𝒟f x · dx)``; integer and boolean parts take (and give) the tangent ``None``."""
    x, dom, _ = prepare(term, x)
    return program(term, dom, "jvp")(x, as_tangent(dx, dom))


def vjp(term: Term, x: Any, dy: Any) -> tuple[Any, Any]:
    """Reverse mode: ``(f x, 𝒟f xᵀ · dy)``; the second component has ``x``'s structure, with ``None`` for
    its integer and boolean parts."""
    x, dom, cod = prepare(term, x)
    return program(term, dom, "vjp")(x, as_tangent(dy, cod))


def value_and_grad(term: Term, x: Any) -> tuple[Any, Any]:
    """``(f x, ∇f x)`` for a term with a scalar output, by reverse mode."""
    x, dom, cod = prepare(term, x)
    require_scalar(cod, dom)
    return program(term, dom, "grad")(x)


def grad(term: Term, x: Any) -> Any:
    """``∇f x`` for a term with a scalar output; the result has ``x``'s structure."""
    return value_and_grad(term, x)[1]


def _unflatten(t: Type, vals: list[Any]) -> Any:
    """Rebuild a value of type ``t`` from its leaves, left to right."""
    it = iter(vals)

    def build(s: Type) -> Any:
        return next(it) if isinstance(s, Array) else tuple(build(c) for c in s)

    return build(t)


def _flat_leaves(value: Any, t: Type) -> list[np.ndarray | None]:
    if isinstance(t, Array):
        return [None if value is None else np.asarray(value).reshape(-1)]
    return [a for v, c in zip(value, t) for a in _flat_leaves(v, c)]


def _basis(t: Type) -> list[tuple[int, int, Any]]:
    """The standard basis of an object's tangent space: (leaf, element, vector); parts without a tangent
    are ``None`` in every vector and have no basis vectors."""
    ls = leaves(t)
    out = []
    for li, leaf in enumerate(ls):
        for k in range(leaf.size if leaf.differentiable else 0):
            vals = [np.zeros(a.shape, a.dtype) if a.differentiable else None for a in ls]
            vals[li].flat[k] = 1
            out.append((li, k, _unflatten(t, vals)))
    return out


def jacobian(term: Term, x: Any, mode: Literal["fwd", "rev"] = "rev") -> Any:
    """The Jacobian at ``x``: one forward pass per input element or one reverse pass per output element.

    For an array-to-array term the result has shape ``out.shape + in.shape``; with tuples it is nested
    as ``J[output leaf][input leaf]`` following both structures. A block for an integer or boolean input or
    output is ``None``: it has no derivative.
    """
    if mode not in ("fwd", "rev"):
        raise ValueError(f"mode must be 'fwd' or 'rev', got {mode!r}")
    x, dom, cod = prepare(term, x)
    ins, outs = leaves(dom), leaves(cod)
    blocks = [[np.zeros((o.size, i.size), np.result_type(o.dtype, i.dtype))
               if o.differentiable and i.differentiable else None for i in ins] for o in outs]
    if mode == "fwd":
        f = program(term, dom, "jvp")
        for li, k, e in _basis(dom):
            for oi, col in enumerate(_flat_leaves(f(x, e)[1], cod)):
                if col is not None:
                    blocks[oi][li][:, k] = col
    else:
        f = program(term, dom, "vjp")
        for oi, k, e in _basis(cod):
            for li, row in enumerate(_flat_leaves(f(x, e)[1], dom)):
                if row is not None:
                    blocks[oi][li][k, :] = row
    shaped = [_unflatten(dom, [None if b is None else b.reshape(o.shape + i.shape) for b, i in zip(row, ins)])
              for row, o in zip(blocks, outs)]
    return _unflatten(cod, shaped)
