"""Compiled interpretations: a term and an input type in, a straight-line Python function out.

Each mode runs one interpretation on symbols (:mod:`catterms.codegen`) and compiles what it wrote:

* ``value``  — :data:`~catterms.evaluate.EVAL`: ``f(x) -> y``;
* ``jvp``    — ``D`` over additive maps: ``f(x, dx) -> (y, dy)``;
* ``vjp``    — ``D`` over ``Dual``: ``f(x, dy) -> (y, dx)``;
* ``grad``   — the same with the cotangent 1: ``f(x) -> (y, ∇f x)``;
* ``jvp_batch``, ``vjp_batch`` — ``jvp`` and ``vjp`` on a stack of tangents (cotangents): each float leaf
  has shape ``(B,) + leaf.shape`` and so has each of the results' (:mod:`catterms.batching`); a Jacobian
  is one of these on the standard basis;
* ``split``  — reverse mode cut between its halves: ``forward(x) -> (y, residuals)`` and
  ``backward(residuals, dy) -> dx``. The residuals are exactly the forward values the backward half
  reads (trap 5 of the paper digest: no tape, but residuals), as a tuple of arrays, so they can wait
  on the worker that computed them.

Tangents and cotangents of integer and boolean parts are ``None``, in and out: they have none. Programs
are cached per (term, input type, mode).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import batching, trees
from .ad import FORWARD, REVERSE
from .boundary import boundary
from .caches import cached
from .category import interpret, postorder
from .codegen import Program, generating
from .evaluate import EVAL
from .modes import SPECS, Mode
from .terms import Term
from .typecheck import infer
from .types import Array, Type
from .vectors import ZERO, materialize, tangent

#: The batched modes, by the mode they batch.
BATCHED = {m: spec.batches for m, spec in SPECS.items() if spec.batches is not None}


class Split(NamedTuple):
    """Reverse mode in two halves; ``residual_bytes`` is what the forward half keeps for the backward."""

    forward: Callable[[Any], tuple[Any, tuple]]
    backward: Callable[[tuple, Any], Any]
    residual_bytes: int


def signature(dom: Type, cod: Type, mode: Mode) -> tuple[Type, ...]:
    """The argument types of ``mode``: the input, and the tangent (``jvp``) or cotangent (``vjp``)."""
    return {"value": (dom,), "jvp": (dom, dom), "vjp": (dom, cod), "grad": (dom,)}[mode]


def interpretation(term: Term, dom: Type, cod: Type, mode: Mode, args: tuple) -> Any:
    """What ``mode`` computes from its arguments (:func:`signature`), on any kind of value: arrays, the
    symbols of generated code, or the tracers of a term being recorded (a derivative term)."""
    x = args[0]
    if mode == "value":
        return interpret(term, EVAL)(x)
    if mode == "jvp":
        y, d = interpret(term, FORWARD)(x)
        return y, materialize(d(tangent(args[1], dom)), cod)
    y, d = interpret(term, REVERSE)(x)
    if mode == "grad":
        assert isinstance(cod, Array)  # the gradient of a scalar function (the API checked)
        # a known 1, not a placeholder: what the backward pass does to it folds when it is generated
        return y, materialize(d(np.ones((), cod.dtype)), dom)
    if mode == "vjp":
        return y, materialize(d(tangent(args[1], cod)), dom)
    raise ValueError(f"unknown mode {mode!r}")


@cached(entries=512)
@boundary
def program(term: Term, dom: Type, mode: Mode) -> Callable[..., Any]:
    """The compiled ``mode`` interpretation of ``term`` on inputs of type ``dom``. A batched mode generates the
    mode it batches, at these (unbatched) types, and rewrites its tangent side (:mod:`catterms.batching`)."""
    cod = infer(term, dom)
    return _entry(term, _generated(term, dom, cod, mode))


def _generated(term: Term, dom: Type, cod: Type, mode: Mode) -> Callable[..., Any]:
    prog = Program()
    base = BATCHED.get(mode, mode)
    with generating(prog):
        args = [prog.inputs(t, p) for t, p in zip(signature(dom, cod, base), "xt" if base == "jvp" else "xc")]
        result = interpretation(term, dom, cod, base, tuple(args))
        if mode in BATCHED:
            return batching.compile(prog, args, result, mode)
        return prog.function(args, result, mode)


def _entry(term: Term, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, a program of ``term``, as an entry point (:func:`~catterms.boundary.boundary`) when ``term`` holds
    a primitive with a body (a loop, a conditional): a call runs the body's program step by step and keeps
    every step's results, which the collector would scan again and again. Other programs only compute: their
    calls touch no switch."""
    holds_body = any(n.op == "prim" and any(isinstance(v, Term) for _, v in n.data[1]) for n in postorder(term)[0])
    return boundary(fn) if holds_body else fn


def batched_now(term: Term, dom: Type, cod: Type, mode: Mode, x: Any, stack: Any) -> tuple[Any, Any]:
    """A batched mode on traced values (``x`` holds tracers of an enclosing ``ct.compile``): ``stack`` is the
    tangent (``jvp_batch``) or cotangent (``vjp_batch``) with the batch axis first on each float leaf,
    :data:`~catterms.vectors.ZERO` or None where there is none (traced too: the primitives' numpy code
    then meets tracers, never a constant indexed by a tracer); the interpretation runs once and its
    tangent side runs batched as it is emitted (:class:`~catterms.batching.Now`). Returns ``(y, batched
    tangent out)``, as the compiled batched program does."""
    arrays = [a for a in trees.leaves(stack) if a is not None and a is not ZERO]
    now = batching.Now(len(arrays[0]))
    with generating(now):
        seeded = trees.map(lambda v: v if v is None or v is ZERO else now.seed(v), stack)
        y, d = interpretation(term, dom, cod, BATCHED[mode], (x, seeded))
        return y, now.value(d)


@cached(entries=512)
@boundary
def split(term: Term, dom: Type) -> Split:
    """Reverse mode as a forward half that returns its residuals and a backward half that consumes them."""
    cod = infer(term, dom)
    return _halves(term, dom, cod)


def _halves(term: Term, dom: Type, cod: Type) -> Split:
    prog = Program()
    with generating(prog):
        x = prog.inputs(dom)
        y, d = interpret(term, REVERSE)(x)
        mark = len(prog.lines)
        dy = prog.inputs(cod, "c")
        dx = materialize(d(tangent(dy, cod)), dom)
    uses: list[str] = []
    prog.literal(dx, uses)
    residuals = tuple(prog.residuals(mark, uses, {s.name for s in trees.leaves(dy)}))
    forward = _entry(term, prog.function([x], (y, residuals), "forward"))
    backward = _entry(term, prog.function([residuals, dy], dx, "backward", start=mark))
    return Split(forward, backward, sum(r.size * r.dtype.itemsize for r in residuals))
