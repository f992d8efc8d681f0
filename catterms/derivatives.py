"""Derivative terms: the paper's ``D`` read as a construction from terms to terms.

Forward and reverse mode are interpretations (:mod:`catterms.ad`) run on values. Run on the front end's
tracers instead, every array operation they perform — the primal primitives, the coefficients each
derivative rule computes, the linear maps it builds from them — is recorded as a term node, and the
result, lowered as any traced program is (:mod:`catterms.frontend`), is the derivative *term*. Nothing
here knows a derivative rule: it is the same construction that compiles ``ct.grad``, pointed at another
kind of value. Plumbing, symbolic zeros and the choice of linear maps happen at recording time and leave
no trace; the graph is hash-consed (a subterm is shared), only what the result reads is kept, and the
linear maps that derivatives are made of (a ``scale`` by an array, ``matmul_left``…) are recorded as the
public primitives their numpy code is written in — so a derivative term is an ordinary term: it
type-checks, prints, is sent with :func:`~catterms.wire.dumps`, runs on Dask, and is differentiated again.

Derivative terms are specialised to the input's type, as compiled programs are: the derivative of
``sum`` is a broadcast *to a shape*. An integer or boolean part of a tangent or cotangent, which has no
derivative, is a zero array of its type in the term (``None`` at the API).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from . import trees
from .boundary import boundary
from .caches import cached
from .compiler import Mode, interpretation, signature
from .terms import Term
from .typecheck import infer, require_scalar
from .types import Type

Part = Literal["both", "value", "derivative"]


def filled(value: Any, ty: Type) -> Any:
    """A derivative's value with the part of no tangent (``None``) as the zero array of its type."""
    return trees.map(lambda t, v: np.zeros(t.shape, t.dtype) if v is None else v, ty, value)


@cached(entries=256)
@boundary
def derivative(term: Term, dom: Type, mode: Mode, part: Part = "both") -> Term:
    """The term of ``mode`` (:mod:`catterms.compiler`) of ``term`` on inputs of type ``dom``: for ``jvp``
    ``(x, dx) ↦ (f x, 𝒟f x · dx)``, for ``vjp`` ``(x, dy) ↦ (f x, 𝒟f xᵀ · dy)``, for ``grad``
    ``x ↦ (f x, ∇f x)``; ``part`` keeps only the value or only the derivative."""
    from .frontend import compile

    cod = infer(term, dom)
    out = cod if mode == "value" else (cod, dom if mode in ("vjp", "grad") else cod)

    def recorded(*args: Any) -> Any:
        result = filled(interpretation(term, dom, cod, mode, args), out)
        return result if part == "both" or mode == "value" else result[0 if part == "value" else 1]

    return compile(recorded, *signature(dom, cod, mode))


def spec(dom: Any) -> Type:
    """The input type a derivative term is made for, from anything ``ct.compile`` takes as a spec."""
    from .frontend.trace import spec_type

    return spec_type(dom)


def jvp_term(term: Term, dom: Any) -> Term:
    """Forward mode as a term of type ``a × a → b × b``: ``(x, dx) ↦ (f x, 𝒟f x · dx)``; ``dom`` is the
    input's type (``ct.Array``, an example value, or a tuple of them)."""
    return derivative(_term(term, "jvp_term"), spec(dom), "jvp")


def vjp_term(term: Term, dom: Any) -> Term:
    """Reverse mode as a term of type ``a × b → b × a``: ``(x, dy) ↦ (f x, 𝒟f xᵀ · dy)``."""
    return derivative(_term(term, "vjp_term"), spec(dom), "vjp")


def value_and_grad_term(term: Term, dom: Any) -> Term:
    """``x ↦ (f x, ∇f x)`` as a term of type ``a → b × a``, for a term with a float scalar output."""
    return derivative(term, _scalar(term, dom, "value_and_grad_term"), "grad")


def grad_term(term: Term, dom: Any) -> Term:
    """``x ↦ ∇f x`` as a term of type ``a → a``, for a term with a float scalar output."""
    return derivative(term, _scalar(term, dom, "grad_term"), "grad", "derivative")


def hvp_term(term: Term, dom: Any) -> Term:
    """``(x, v) ↦ (∇f x, ∇²f x · v)``, forward mode over the gradient term, for a term with a float scalar
    output: a Hessian-vector product as an ordinary term (what an ``hvp`` job on a cluster runs)."""
    t = _scalar(term, dom, "hvp_term")
    return derivative(derivative(term, t, "grad", "derivative"), t, "jvp")


def job_term(term: Term, dom: Type, mode: Mode) -> tuple[Term, Type]:
    """What a job in ``mode`` computes, as one term applied to one input, and that input's type: the term
    itself for ``value``; for every other mode its derivative term (:data:`catterms.modes.SPECS` says what
    each takes and returns) — ``(x, dx) ↦ (f x, 𝒟f x · dx)``, ``(x, dy) ↦ (f x, 𝒟f xᵀ · dy)``,
    ``x ↦ (f x, ∇f x)``, ``(x, v) ↦ (∇f x, ∇²f x · v)``. A gradient's term must have a float scalar
    output (:func:`~catterms.typecheck.require_scalar`). So a cluster runs every mode as the value of a
    term, and its reverse pass is the one this construction derives."""
    if mode == "hvp":
        t = _scalar(term, dom, "an hvp job")
        return hvp_term(term, t), (t, t)
    if mode == "value":
        return term, dom
    if mode == "grad":
        return derivative(term, _scalar(term, dom, "a grad job"), "grad"), dom
    return derivative(term, dom, mode), signature(dom, infer(term, dom), mode)  # (x, direction)


def nones(value: Any, ty: Type) -> Any:
    """The inverse of :func:`filled`: the parts of ``value`` without a tangent as ``None``, as the API gives them."""
    return trees.map(lambda t, v: v if t.differentiable else None, ty, value)


def _term(term: Any, what: str) -> Term:
    if not isinstance(term, Term):
        raise TypeError(f"{what} takes a Term, got {type(term).__name__}; compile a function first with ct.compile")
    return term


def _scalar(term: Any, dom: Any, what: str) -> Type:
    """``dom`` as a type, once ``term`` is checked to have a float scalar output on it."""
    t = spec(dom)
    require_scalar(infer(_term(term, what), t), t)
    return t
