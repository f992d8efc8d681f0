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

from .caches import cached
from .category import gc_paused, headroom
from .compiler import Mode, interpretation, signature
from .terms import Term
from .typecheck import infer
from .types import Array, Type

Part = Literal["both", "value", "derivative"]


def filled(value: Any, ty: Type) -> Any:
    """A derivative's value with the part of no tangent (``None``) as the zero array of its type."""
    if isinstance(ty, tuple):
        return tuple(filled(v, t) for v, t in zip(value, ty))
    return np.zeros(ty.shape, ty.dtype) if value is None else value


@cached(entries=256)
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

    headroom(term)
    with gc_paused():
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


def nones(value: Any, ty: Type) -> Any:
    """The inverse of :func:`filled`: the parts of ``value`` without a tangent as ``None``, as the API gives them."""
    if isinstance(ty, tuple):
        return tuple(nones(v, t) for v, t in zip(value, ty))
    return value if ty.differentiable else None


def _term(term: Any, what: str) -> Term:
    if not isinstance(term, Term):
        raise TypeError(f"{what} takes a Term, got {type(term).__name__}; compile a function first with ct.compile")
    return term


def _scalar(term: Any, dom: Any, what: str) -> Type:
    """``dom`` as a type, once ``term`` is checked to have a float scalar output on it."""
    from .api import require_scalar

    t = spec(dom)
    require_scalar(infer(_term(term, what), t), t)
    return t


@cached(entries=256)
def loop_body(body: Term, dom: Type, nconst: int, ncarry: int, how: str) -> Term:
    """The body of a loop's derivative loop (:mod:`catterms.prims.control`), a derivative term over flat
    leaves, for the body ``body`` of a scan on inputs ``dom = (i, k…, c…, x…)``. ``how``: ``jvp`` —
    ``(i, k…, dk…, dc…, c…, x…, dx…) ↦ (dc′…, dy…)``; ``vjp`` — ``(i, k…, dc′…, dk…, c…, x…, dy…) ↦ (dc…,
    dk + dkₛ…, dx…)``, the cotangent of the constants summed over the steps; ``vjp_save`` — the same with
    the cotangents of the saved carries last, added to the carries'. Only float leaves have tangents."""
    from .api import jvp, vjp
    from .frontend import compile
    from .prims.control import leaves_of, packed

    parts = leaves_of(dom)
    i, k, c, x = parts[0], parts[1:1 + nconst], parts[1 + nconst:1 + nconst + ncarry], parts[1 + nconst + ncarry:]
    ys = leaves_of(infer(body, dom))[ncarry:]
    fk, fc, fx, fy = (_floats(p) for p in (k, c, x, ys))

    if how == "jvp":
        types = (i, *k, *_at(k, fk), *_at(c, fc), *c, *x, *_at(x, fx))

        def step(*args: Any) -> Any:
            i_, k_, dk, dc, c_, x_, dx = cuts(args, [1, len(k), len(fk), len(fc), len(c), len(x), len(fx)])
            tangent = (None, *spread(dk, fk, len(k)), *spread(dc, fc, len(c)), *spread(dx, fx, len(x)))
            d = leaves_of(jvp(body, packed((*i_, *k_, *c_, *x_)), packed(tangent))[1])
            return packed([d[j] for j in fc] + [d[ncarry + j] for j in fy])
    else:
        save = how == "vjp_save"
        types = (i, *k, *_at(c, fc), *_at(k, fk), *c, *x, *_at(ys, fy), *(_at(c, fc) if save else ()))

        def step(*args: Any) -> Any:
            i_, k_, dc, dk, c_, x_, dy, dcs = cuts(args, [1, len(k), len(fc), len(fk), len(c), len(x), len(fy),
                                                          len(fc) if save else 0])
            g = leaves_of(vjp(body, packed((*i_, *k_, *c_, *x_)), packed(spread(dc, fc, len(c)) + spread(dy, fy, len(ys))))[1])
            before = [g[1 + nconst + j] + (dcs[m] if save else 0.0) for m, j in enumerate(fc)]
            consts = [dk[m] + g[1 + j] for m, j in enumerate(fk)]
            return packed(before + consts + [g[1 + nconst + ncarry + j] for j in fx])

    return compile(step, *types)


@cached(entries=256)
def branch_body(branch: Term, dom: Type, how: str) -> Term:
    """A conditional's branch differentiated, as a term over flat leaves (:mod:`catterms.prims.control`):
    ``jvp`` — ``(x…, dx…) ↦ dy…``; ``vjp`` — ``(x…, dy…) ↦ dx…``; over the float leaves only."""
    from .api import jvp, vjp
    from .frontend import compile
    from .prims.control import leaves_of, packed

    xs, ys = leaves_of(dom), leaves_of(infer(branch, dom))
    fx, fy = _floats(xs), _floats(ys)
    n = len(xs)
    if how == "jvp":
        def step(*args: Any) -> Any:
            d = leaves_of(jvp(branch, packed(args[:n]), packed(spread(args[n:], fx, n)))[1])
            return packed([d[j] for j in fy])

        return compile(step, *xs, *_at(xs, fx))

    def back(*args: Any) -> Any:
        g = leaves_of(vjp(branch, packed(args[:n]), packed(spread(args[n:], fy, len(ys))))[1])
        return packed([g[j] for j in fx])

    return compile(back, *xs, *_at(ys, fy))


@cached(entries=256)
def while_body(cond: Term, body: Term, dom: Type, nconst: int, how: str, save: bool = False,
               max_steps: int = 0) -> Term:
    """The condition or body of a while loop's derivative loop (:mod:`catterms.prims.control`), for a loop
    whose functions take ``dom = (k…, c…)``. Forward mode loops over the pair (carry, tangent): ``cond``
    and ``jvp`` take ``(k…, dk…, c…, dc…)``, give the condition of ``(k, c)`` and ``(c′…, dc′…)``. Reverse
    mode loops back over the saved carries ``cs`` (rows ``j - 1``, ``j - 2``, …): ``back_cond`` and ``back``
    take ``(k…, cs…[, dcs…], j, dc…, dk…)``, give ``j > 0`` and ``(j - 1, dc_before…, dk + dkₛ…)``; ``cs``
    has ``max_steps`` rows; ``dcs`` (``save``) are the cotangents of the saved carries, added at their step.
    Float leaves only."""
    from . import numpy as cnp
    from .api import evaluate, jvp, vjp
    from .frontend import compile
    from .prims.control import leaves_of, packed

    parts = leaves_of(dom)
    k, c = parts[:nconst], parts[nconst:]
    fk, fc = _floats(k), _floats(c)
    if how in ("cond", "jvp"):
        def pair(*args: Any) -> Any:
            k_, dk, c_, dc = cuts(args, [len(k), len(fk), len(c), len(fc)])
            x = packed((*k_, *c_))
            if how == "cond":
                return evaluate(cond, x)
            y, d = jvp(body, x, packed(spread(dk, fk, len(k)) + spread(dc, fc, len(c))))
            return packed((*leaves_of(y), *(leaves_of(d)[j] for j in fc)))

        return compile(pair, *k, *_at(k, fk), *c, *_at(c, fc))
    def back(*args: Any) -> Any:
        k_, cs, dcs, (j,), dc, dk = cuts(args, [len(k), len(c), len(fc) if save else 0, 1, len(fc), len(fk)])
        if how == "back_cond":
            return j > 0
        r = j - 1
        at = [cnp.take(a, r, axis=0) for a in cs]
        g = leaves_of(vjp(body, packed((*k_, *at)), packed(spread(dc, fc, len(c))))[1])
        before = [g[nconst + i] + (cnp.take(dcs[m], r, axis=0) if save else 0.0) for m, i in enumerate(fc)]
        return packed((r, *before, *(dk[m] + g[i] for m, i in enumerate(fk))))

    saved = [Array((max_steps,) + a.shape, a.dtype) for a in c]
    return compile(back, *k, *saved, *(_at(tuple(saved), fc) if save else ()), Array((), "int64"), *_at(c, fc),
                   *_at(k, fk))


def cuts(args: tuple, sizes: list[int]) -> list[tuple]:
    """``args`` cut into consecutive pieces of these sizes."""
    out, at = [], 0
    for n in sizes:
        out.append(args[at:at + n])
        at += n
    return out


def spread(values: tuple, at: list[int], n: int) -> list[Any]:
    """``n`` parts, ``values`` at the positions ``at`` and None (no tangent) elsewhere."""
    out: list[Any] = [None] * n
    for j, v in zip(at, values):
        out[j] = v
    return out


def _floats(parts: tuple) -> list[int]:
    return [j for j, p in enumerate(parts) if np.dtype(p.dtype).kind == "f"]


def _at(parts: tuple, at: list[int]) -> tuple:
    return tuple(parts[j] for j in at)
