"""Cases for :mod:`catterms.control`: the ``scan`` loop, its bodies compiled here, references by
Python loops."""

from __future__ import annotations

from typing import Any

import numpy as np

import catterms as ct
import catterms.numpy as cnp

from .gen import fixed, normal, tuple_of

I64 = ct.Array((), "int64")

#: (i, c, x) ↦ (tanh(0.8 c + x), c · x): one float carry, one output per step.
RECUR = ct.compile(lambda i, c, x: (cnp.tanh(c * 0.8 + x), c * x), I64, ct.Array((3,)), ct.Array((3,)))
#: (i, k, c, n, x) ↦ (c k + x, n + i, Σ c): a constant, a float and an integer carry.
MIXED = ct.compile(lambda i, k, c, n, x: (c * k + x, n + i, cnp.sum(c)), I64, ct.Array((3,)), ct.Array((3,)),
                   I64, ct.Array((3,)))
#: (i, x) ↦ sin(x) · i: no carry, a map over the rows.
MAP = ct.compile(lambda i, x: cnp.sin(x) * i, I64, ct.Array((2,)))


def loop(fn: Any, nconst: int, ncarry: int, reverse: bool, save: bool) -> Any:
    """The reference: ``scan``'s semantics by a Python loop over ``fn`` (the body in numpy)."""

    def ref(x: tuple) -> Any:
        i0, consts = x[0], x[1:1 + nconst]
        carry, xs = list(x[1 + nconst:1 + nconst + ncarry]), x[1 + nconst + ncarry:]
        n = len(xs[0])
        ys, cs = [None] * n, [None] * n
        for j in (range(n - 1, -1, -1) if reverse else range(n)):
            cs[j] = carry
            out = fn(i0 + j, *consts, *carry, *(a[j] for a in xs))
            out = out if isinstance(out, tuple) else (out,)
            carry, ys[j] = list(out[:ncarry]), out[ncarry:]
        stacked = [np.stack(parts) for parts in zip(*ys)] + ([np.stack(p) for p in zip(*cs)] if save else [])
        parts = (*carry, *stacked)
        return parts[0] if len(parts) == 1 else parts

    return ref


#: The branches of a conditional on (v, k): (sin v · k, k + 1) or (v², k · 2).
TRUE = ct.compile(lambda v, k: (cnp.sin(v) * 2.0, k + 1), ct.Array((3,)), I64)
FALSE = ct.compile(lambda v, k: (v * v, k * 2), ct.Array((3,)), I64)
#: Halve a vector until its norm is below 1, counting the steps: (k, v, n) ↦ (v · k, n + 1) while |v|² > 1.
SHRINK_COND = ct.compile(lambda k, v, n: cnp.sum(v * v) > 1.0, ct.Array(()), ct.Array((3,)), I64)
SHRINK = ct.compile(lambda k, v, n: (v * k, n + 1), ct.Array(()), ct.Array((3,)), I64)


def halving(x: tuple, save: bool = False, bound: int = 0) -> Any:
    """The reference of the while case: the step counter, the last carry (and the carries it started each
    step from, padded to ``bound`` rows)."""
    n0, k, v, n = x
    rows = []
    while np.sum(v * v) > 1.0:
        rows.append(v)
        v, n = v * k, n + 1
    out = (n0 + len(rows), v, n)
    if save:
        pad = np.zeros((bound, 3))
        pad[:len(rows)] = rows
        out += (pad, np.array([i + x[3] for i in range(len(rows))] + [0] * (bound - len(rows))))
    return out


CASES = {
    "cond": [
        ({"true": TRUE, "false": FALSE}, tuple_of(fixed(np.bool_(True)), normal(3), fixed(np.int64(4))),
         lambda x: (np.sin(x[1]) * 2.0, x[2] + 1) if x[0] else (x[1] ** 2, x[2] * 2)),
        ({"true": TRUE, "false": FALSE}, tuple_of(fixed(np.bool_(False)), normal(3), fixed(np.int64(4))),
         lambda x: (np.sin(x[1]) * 2.0, x[2] + 1) if x[0] else (x[1] ** 2, x[2] * 2)),
    ],
    "while": [
        ({"cond": SHRINK_COND, "body": SHRINK, "nconst": 1, "max_steps": 20},
         tuple_of(fixed(np.int64(0)), fixed(np.float64(0.6)), fixed(np.array([1.5, -2.0, 0.7])), fixed(np.int64(0))),
         halving),
        ({"cond": SHRINK_COND, "body": SHRINK, "nconst": 1, "max_steps": 8, "save": True},
         tuple_of(fixed(np.int64(2)), fixed(np.float64(0.7)), fixed(np.array([1.2, 0.9, -1.1])), fixed(np.int64(1))),
         lambda x: halving(x, True, 8)),
    ],
    "scan": [
        ({"body": RECUR, "ncarry": 1, "length": 4, "save": True},
         tuple_of(fixed(np.int64(2)), normal(3), normal(4, 3)),
         loop(lambda i, c, x: (np.tanh(c * 0.8 + x), c * x), 0, 1, False, True)),
        ({"body": MIXED, "nconst": 1, "ncarry": 2, "length": 3, "reverse": True},
         tuple_of(fixed(np.int64(1)), normal(3), normal(3), fixed(np.int64(5)), normal(3, 3)),
         loop(lambda i, k, c, n, x: (c * k + x, n + i, np.sum(c)), 1, 2, True, False)),
        ({"body": MAP, "length": 3},
         tuple_of(fixed(np.int64(0)), normal(3, 2)),
         loop(lambda i, x: np.sin(x) * i, 0, 0, False, False)),
    ],
}
