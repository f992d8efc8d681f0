"""Hostile parameters for every public primitive, as the wire format would carry them: whatever the value,
building, decoding, type-checking, evaluating and differentiating the primitive either works or raises a
``CattermsError`` — never another exception (bounded in count and time)."""

from __future__ import annotations

import random
import time
import warnings
from typing import Any

import numpy as np

import catterms as ct
from catterms.prims import TABLE
from catterms.types import Array

VALUES: list[Any] = [-1, 0, 2, 10 ** 12, 1.5, -0.5, "x", "ij->", None, True, (), (1, 2), ((1,),), ("t",),
                     (("a", (2,), (1,)),), (("s", None, None, 0),), (("b", (3,), (True, False, True)),)]
DOMAINS: list[Any] = [Array((3,)), Array((2, 3)), (Array((3,)), Array((3,))), Array((3,), "int64"),
                      (Array((2, 2)), Array((2, 2)), Array((2,))), Array(()), (Array((3,)), Array((3,), "int64"))]


def _ones(t: Any) -> Any:
    if isinstance(t, tuple):
        return tuple(_ones(c) for c in t)
    return np.ones(t.shape, t.dtype) if t.differentiable else None


def _exercise(term: ct.Term, dom: Any) -> None:
    cod = ct.infer(term, dom)
    if ct.cost(term, dom).work > 1e6 or any(a.size > 10 ** 6 for a in _leaves(cod)):
        return
    x = tuple(np.ones(a.shape, a.dtype) for a in dom) if isinstance(dom, tuple) else np.ones(dom.shape, dom.dtype)
    ct.evaluate(term, x)
    ct.jvp(term, x, _ones(dom))
    ct.vjp(term, x, _ones(cod))


def _leaves(t: Any) -> list[Array]:
    return [a for c in t for a in _leaves(c)] if isinstance(t, tuple) else [t]


def test_hostile_parameters_raise_only_catterms_errors() -> None:
    rng = random.Random(20261201)
    public = sorted(name for name, rule in TABLE.items() if rule.public)
    deadline = time.monotonic() + 20.0
    cases = 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        while cases < 3000 and time.monotonic() < deadline:
            name = public[cases % len(public)] if cases < len(public) else rng.choice(public)
            names = list(TABLE[name].params)
            params = {rng.choice(names): rng.choice(VALUES)} if names and cases >= len(public) else {}
            cases += 1
            try:
                term = ct.loads(ct.dumps(ct.prim(name, **params)))
                _exercise(term, rng.choice(DOMAINS))
            except ct.CattermsError:
                continue
    assert cases >= len(public)
