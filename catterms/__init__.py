"""catterms: Elliott's *Simple Essence of Automatic Differentiation* as categorical terms over numpy.

A function is a :class:`Term` in the paper's vocabulary; its value, derivatives, type, cost and
rendering are interpretations of that one term (see :mod:`catterms.category`). Quick tour::

    import catterms as ct
    import catterms.numpy as cnp

    f = ct.compile(lambda x, y: (cnp.cos(x * y), cnp.sin(x * y)), ct.Array(()), ct.Array(()))
    ct.pretty(f)                       # '(cos △ sin) ∘ mul'
    ct.jvp(f, (1.0, 2.0), (1.0, 0.0))  # forward mode
    ct.vjp(f, (1.0, 2.0), (1.0, 1.0))  # reverse mode
"""

from . import numpy, scipy  # noqa: F401  (the tracer calls them: they register with frontend.dispatch)
from .api import evaluate, grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .caches import cache_limit, set_cache_limit
from .cost import Cost
from .derivatives import grad_term, jvp_term, value_and_grad_term, vjp_term
from .errors import CattermsError, EvaluationError, MissingRuleError, TermTypeError, TraceError, WireFormatError
from .frontend import compile
from .loops import cond, fori_loop, scan, while_loop
from .pretty import pretty
from .terms import (
    Term,
    compose,
    const,
    cross,
    dup,
    dupn,
    exl,
    exr,
    fork,
    identity,
    inj,
    inl,
    inr,
    jam,
    jamn,
    join,
    prim,
    proj,
    scale,
)
from .typecheck import cost, infer
from .types import Array, Type
from .wire import Limits, dumps, loads

__all__ = [
    "Array", "CattermsError", "Cost", "EvaluationError", "MissingRuleError", "Term", "TermTypeError",
    "TraceError", "Type", "WireFormatError", "compose", "const", "cost", "cross", "dup", "dupn", "evaluate",
    "exl", "exr", "fork", "grad", "grad_term", "hessian", "hvp", "identity", "infer", "inj", "inl", "inr", "jacobian",
    "jam", "jamn", "join",
    "jvp", "jvp_term", "pretty", "prim", "proj", "scale", "value_and_grad", "value_and_grad_term", "vjp",
    "vjp_term",
    "Limits", "dumps", "loads", "cache_limit", "set_cache_limit",
    "compile", "cond", "fori_loop", "scan", "while_loop",
]
