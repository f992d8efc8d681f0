"""The public entry points: evaluate and differentiate a term or a Python function, at a point or traced.

Every function takes a :class:`~catterms.terms.Term` or a Python function as its first argument (a
function is compiled at the input's type, once, and cached by identity: a function of n ≥ 2 arguments
takes their tuple as ``x``, as its term does). Called on values they compile the term's interpretation
once per term and input type (:mod:`catterms.compiler`) and return arrays. Called on traced values, inside
``ct.compile``, they run the same interpretations on the tracers (:func:`~catterms.compiler.interpretation`),
which records the derivative into the enclosing program: a compiled function can take a gradient. A
function differentiated there may close over traced values of the enclosing one; they are inputs of its
term (:mod:`catterms.frontend.trace`'s captures), held constant by this derivative and seen by any outer
one, so perturbations of different levels never mix.

Higher order is a derivative of a derivative term (:mod:`catterms.derivatives`): ``hvp`` is forward mode
over the gradient term, ``hessian`` the Jacobian of the gradient term.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np

from . import trees
from .caches import cached
from .compiler import BATCHED, Mode, batched_now, interpretation, program
from .derivatives import derivative
from .errors import TermTypeError
from .terms import Term
from .typecheck import checked, infer, require_scalar
from .types import Array, Type, as_tangent, as_value, leaves, show, type_of
from .vectors import ZERO

Fn = Term | Callable[..., Any]


def prepare(term: Term, x: Any) -> tuple[Any, Type, Type]:
    """Normalise ``x`` and type-check ``term`` on it: ``(x, domain, codomain)``. A job's admission check:
    it keeps every node's check (:func:`~catterms.typecheck.checked`, LRU-bounded), which the job's
    estimate and planner read, so a job's term is checked once; the in-process entry points (``ct.grad``
    and its kin) check with :func:`~catterms.typecheck.infer`, which keeps nothing for the collector to scan."""
    if not isinstance(term, Term):
        raise TypeError(f"expected a Term, got {type(term).__name__}; build one with ct.compile or the builders")
    x = as_value(x)
    dom = type_of(x)
    return x, dom, checked(term, dom).morphism.check(dom)[0]


# --- what a call runs: a term and its input, concrete or traced ------------------------------------------


class Target(NamedTuple):
    """A term and the input it runs on. ``captured`` when the input is ``(x, captures)``: the traced values
    of an enclosing ``ct.compile`` that a function closes over, constant for this derivative."""

    term: Term
    x: Any
    dom: Type
    cod: Type
    traced: bool
    captured: bool

    def run(self, mode: Mode, *args: Any) -> Any:
        """``mode``'s result; a tangent or cotangent in ``args`` is for ``x`` alone (zero for the captures).
        A batched mode takes the stack of basis vectors :func:`_jacobian` makes, as it is."""
        if self.captured and mode in ("jvp", "jvp_batch"):
            args = ((args[0], ZERO),)
        if mode in BATCHED:
            if self.traced:
                return batched_now(self.term, self.dom, self.cod, mode, self.x, _lifted(args[0]))
            return program(self.term, self.dom, mode)(self.x, args[0])
        types = (self.dom,) if mode == "jvp" else (self.cod,)
        if self.traced:
            args = tuple(_traced_tangent(a, ty) for a, ty in zip(args, types))
            return interpretation(self.term, self.dom, self.cod, mode, (self.x, *args))
        return program(self.term, self.dom, mode)(self.x, *(as_tangent(a, ty) for a, ty in zip(args, types)))

    def own(self, dx: Any) -> Any:
        """The part of a tangent or cotangent of the whole input that is ``x``'s (not the captures')."""
        return dx[0] if self.captured else dx

    @property
    def x_type(self) -> Type:
        if self.captured:
            assert isinstance(self.dom, tuple)  # (x's type, the captures' type)
            return self.dom[0]
        return self.dom


def _spread(fn: Callable[..., Any], x: Any) -> bool:
    """Whether ``fn`` takes the components of the tuple ``x`` as its arguments (else ``x`` itself)."""
    if not isinstance(x, (tuple, list)) or len(x) < 2:
        return False
    try:
        inspect.signature(fn).bind(*x)
    except TypeError:
        return False
    except ValueError:  # no signature to read: a builtin; give it the tuple
        return False
    return True


@cached(entries=256)
def compiled(fn: Callable[..., Any], dom: Type, spread: bool) -> Term:
    """``fn``'s term at ``dom`` (``spread``: one argument per component), compiled once per function."""
    from .frontend import compile

    return compile(fn, *dom) if spread and isinstance(dom, tuple) else compile(fn, dom)


def target(f: Fn, x: Any, what: str) -> Target:
    """The term ``f`` stands for at ``x``, and ``x`` as it runs (see the module docstring)."""
    from .frontend.lower import lower
    from .frontend.trace import trace
    from .frontend.tracer import current, holds_tracer, operand_type

    if not isinstance(f, Term) and not callable(f):
        raise TypeError(f"ct.{what} takes a Term or a function as its first argument, got {type(f).__name__}")
    traced_x = holds_tracer(x)
    if not traced_x:
        x = as_value(x)
        dom = type_of(x)
        if isinstance(f, Term) or current() is None:
            term = f if isinstance(f, Term) else compiled(f, dom, _spread(f, x))
            return Target(term, x, dom, infer(term, dom), False, False)
        # inside ct.compile a function of constants may still read the enclosing function's traced values:
        # it is traced here, and its input joins the trace (as constants) only if it does
    x = tuple(x) if isinstance(x, list) else x
    dom = _traced_type(x, operand_type)
    if isinstance(f, Term):
        return Target(f, x, dom, infer(f, dom), True, False)
    spread = _spread(f, x)
    traced = trace(f, dom if spread and isinstance(dom, tuple) else (dom,))
    term = lower(traced.inputs, traced.root)
    if not traced.captures:
        return Target(term, x, dom, infer(term, dom), traced_x, False)
    caps = traced.captures
    whole = (x if traced_x else _lifted(x), caps[0] if len(caps) == 1 else tuple(caps))
    dom = (dom, _traced_type(whole[1], operand_type))
    return Target(term, whole, dom, infer(term, dom), True, True)


def _traced_tangent(t: Any, ty: Type) -> Any:
    """A tangent given inside ``ct.compile``: tracers as they are, the rest as arrays of the part's dtype."""
    from .frontend.tracer import Tracer

    if t is ZERO:
        return t
    if isinstance(ty, tuple):
        if not isinstance(t, (tuple, list)) or len(t) != len(ty):
            raise TermTypeError(f"a tangent for {show(ty)} must be a {len(ty)}-tuple, got {type(t).__name__}")
        return tuple(_traced_tangent(c, s) for c, s in zip(t, ty))
    if t is None or not ty.differentiable:
        return ZERO
    value = t if isinstance(t, Tracer) else np.asarray(t, ty.dtype)
    if tuple(value.shape) != ty.shape:
        raise TermTypeError(f"a tangent for {show(ty)} has shape {tuple(value.shape)}")
    return value


def _lifted(stack: Any) -> Any:
    """A stack of basis vectors as traced constants of the enclosing ``ct.compile``."""
    from .frontend.tracer import lifted

    return trees.map(lambda p: p if p is None or p is ZERO else lifted(p), stack)


def _traced_type(x: Any, operand_type: Callable[[Any], Array]) -> Type:
    if isinstance(x, (tuple, list)):
        return tuple(_traced_type(c, operand_type) for c in x)
    return operand_type(x)


# --- the entry points -------------------------------------------------------------------------------------


def evaluate(f: Fn, x: Any) -> Any:
    """The value of ``f`` at ``x``."""
    return target(f, x, "evaluate").run("value")


def jvp(f: Fn, x: Any, dx: Any) -> tuple[Any, Any]:
    """Forward mode: ``(f x, 𝒟f x · dx)``; integer and boolean parts take (and give) the tangent ``None``."""
    return target(f, x, "jvp").run("jvp", dx)


def vjp(f: Fn, x: Any, dy: Any) -> tuple[Any, Any]:
    """Reverse mode: ``(f x, 𝒟f xᵀ · dy)``; the second component has ``x``'s structure, with ``None`` for
    its integer and boolean parts."""
    t = target(f, x, "vjp")
    y, dx = t.run("vjp", dy)
    return y, t.own(dx)


def value_and_grad(f: Fn, x: Any) -> tuple[Any, Any]:
    """``(f x, ∇f x)`` for a function with a scalar output, by reverse mode."""
    t = target(f, x, "value_and_grad")
    require_scalar(t.cod, t.x_type)
    y, g = t.run("grad")
    return y, t.own(g)


def grad(f: Fn, x: Any) -> Any:
    """``∇f x`` for a function with a scalar output; the result has ``x``'s structure."""
    return value_and_grad(f, x)[1]


def hvp(f: Fn, x: Any, v: Any) -> Any:
    """The Hessian-vector product ``∇²f x · v`` of a function with a scalar output: forward mode over the
    gradient term (one pass, never the Hessian itself)."""
    t = target(f, x, "hvp")
    require_scalar(t.cod, t.x_type)
    g = Target(derivative(t.term, t.dom, "grad", "derivative"), t.x, t.dom, t.dom, t.traced, t.captured)
    return t.own(g.run("jvp", v)[1])


def hessian(f: Fn, x: Any) -> Any:
    """The Hessian ``∇²f x`` of a function with a scalar output: the forward-mode Jacobian of its gradient
    term, one batched pass (shape ``x.shape + x.shape`` for an array ``x``; nested blocks for tuples, as
    :func:`jacobian`)."""
    t = target(f, x, "hessian")
    require_scalar(t.cod, t.x_type)
    g = Target(derivative(t.term, t.dom, "grad", "derivative"), t.x, t.dom, t.dom, t.traced, t.captured)
    return _jacobian(g, "fwd", t.x_type, t.x_type, own_output=True)


def jacobian(f: Fn, x: Any, mode: Literal["fwd", "rev"] = "rev") -> Any:
    """The Jacobian at ``x``: forward mode on the batch of all input basis vectors (``fwd``), or reverse
    mode on the batch of all output basis vectors (``rev``) — one batched pass either way
    (:mod:`catterms.batching`); ``fwd`` is the cheaper when there are fewer inputs than outputs.

    For an array-to-array function the result has shape ``out.shape + in.shape``; with tuples it is nested
    as ``J[output leaf][input leaf]`` following both structures. A block for an integer or boolean input or
    output is ``None``: it has no derivative.
    """
    if mode not in ("fwd", "rev"):
        raise ValueError(f"mode must be 'fwd' or 'rev', got {mode!r}")
    t = target(f, x, "jacobian")
    return _jacobian(t, mode, t.x_type, t.cod)


# --- Jacobians by basis vectors ------------------------------------------------------------------------------


def _flat_leaves(value: Any, t: Type, batched: bool = False) -> list[Any]:
    """The leaves of ``value`` (of type ``t``) flattened, each to a vector — or, ``batched``, to ``(B, -1)``."""

    def flattened(_: Array, v: Any) -> Any:
        if v is None:
            return None
        shape = (len(v), -1) if batched else -1
        return v.reshape(shape) if hasattr(v, "reshape") else np.reshape(v, shape)

    return trees.leaves(trees.map(flattened, t, value))


#: Elements of batched tangent values one pass may hold (summed over the program's tangent-side values,
#: per basis vector): a Jacobian with more basis vectors than fit runs in several batches.
BATCH_ELEMENTS = 1 << 24


def _basis_rows(seeds: list[Array], start: int, stop: int) -> list[Any]:
    """Rows ``start:stop`` of the standard basis over the float leaves ``seeds`` (numbered left to right), as
    one array per leaf with the batch axis first; ``None`` for leaves without a tangent."""
    out: list[Any] = []
    offset = 0
    for leaf in seeds:
        if not leaf.differentiable:
            out.append(None)
            continue
        rows = np.zeros((stop - start, leaf.size), leaf.dtype)
        lo, hi = max(start, offset), min(stop, offset + leaf.size)
        if lo < hi:
            k = np.arange(lo, hi)
            rows[k - start, k - offset] = 1
        out.append(rows.reshape((stop - start,) + leaf.shape))
        offset += leaf.size
    return out


def _offsets(ls: list[Array]) -> list[int]:
    """Where each float leaf's basis vectors start in the numbering of :func:`_basis_rows`."""
    out, offset = [], 0
    for leaf in ls:
        out.append(offset)
        offset += leaf.size if leaf.differentiable else 0
    return out


def _jacobian(t: Target, mode: str, ins_t: Type, outs_t: Type, own_output: bool = False) -> Any:
    """The Jacobian of ``t`` from ``ins_t`` (``x``'s type) to ``outs_t`` by one batched pass: forward mode on
    every input basis vector at once (columns), or reverse mode on every output basis vector (rows). On
    values the pass is a compiled batched program, run in several batches only when one would hold more
    than :data:`BATCH_ELEMENTS`; on tracers it is recorded once, for the whole basis (the program it is
    recorded into holds every batch at once anyway). ``own_output``: the output is ``x``'s part of a
    tangent of the whole input (a gradient term's, under captures)."""
    ins, outs = leaves(ins_t), leaves(outs_t)
    fwd = mode == "fwd"
    seed_t, other_t = (ins_t, outs_t) if fwd else (outs_t, ins_t)
    seeds, others = leaves(seed_t), leaves(other_t)
    n = sum(a.size for a in seeds if a.differentiable)
    got: list[Any] = [None] * len(others)  # per leaf of the other side: (n,) + its shape
    if n and any(a.differentiable for a in others):
        batch: Mode = "jvp_batch" if fwd else "vjp_batch"
        # set on the generated function by batching.compile (a function's attributes have no static type)
        width = 0 if t.traced else program(t.term, t.dom, batch).__catterms_width__  # type: ignore[attr-defined]
        step = n if t.traced else max(1, BATCH_ELEMENTS // max(width, 1))
        chunks = []
        for start in range(0, n, step):
            basis = trees.unflatten(seed_t, _basis_rows(seeds, start, min(n, start + step)))
            out = t.run(batch, basis)[1]
            chunks.append(_flat_leaves(t.own(out) if own_output or not fwd else out, other_t, batched=True))
        got = [None if parts[0] is None else parts[0] if len(parts) == 1 else np.concatenate(parts)
               for parts in zip(*chunks)]
    offsets = _offsets(seeds)

    def block(oi: int, li: int) -> Any:
        o, i = outs[oi], ins[li]
        if not (o.differentiable and i.differentiable):
            return None
        if not n or got[li if not fwd else oi] is None:
            return np.zeros(o.shape + i.shape, np.result_type(o.dtype, i.dtype))
        if fwd:  # columns: the rows of input leaf li, each of the output's shape
            cols = got[oi][offsets[li]:offsets[li] + i.size].reshape((i.size,) + o.shape)
            return np.moveaxis(cols, 0, -1).reshape(o.shape + i.shape)
        rows = got[li][offsets[oi]:offsets[oi] + o.size]
        return rows.reshape(o.shape + i.shape) if o.size == n else rows.reshape(o.shape + i.shape).copy()

    shaped = [trees.unflatten(ins_t, [block(oi, li) for li in range(len(ins))]) for oi in range(len(outs))]
    return trees.unflatten(outs_t, shaped)
