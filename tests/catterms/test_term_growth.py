"""Derivative terms grow linearly with a chain's depth: a constant number of nodes per step.

A reverse pass reads its residuals in the opposite order it makes them; written naively, each step's
term reads a residual through a projection chain as long as its depth in the environment, and the
gradient term grows with the square of the depth. Three of these chains once did: a cotangent bound
inside the scope of the next one (``sin * cos``), a shared weight's cotangent summed right-nested
(``mlp``), a gradient with one part per layer and the layers' weights parked under every residual
(``layers``); ``tanh(h * w)`` was linear already."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import catterms as ct
import catterms.numpy as cnp
from catterms.engine import job_term
from catterms.types import Array


def mlp(L: int) -> tuple:
    def f(x, W):
        h = x
        for i in range(L):
            h = cnp.tanh(W @ h + 0.1 * i)
        return cnp.sum(h * h)
    return f, (Array((8,)), Array((8, 8)))


def sin_cos(L: int) -> tuple:
    def f(x):
        h = x
        for _ in range(L):
            h = cnp.sin(h) * cnp.cos(h)
        return cnp.sum(h)
    return f, (Array((8,)),)


def tanh_hw(L: int) -> tuple:
    def f(x, w):
        h = x
        for _ in range(L):
            h = cnp.tanh(h * w + 0.1)
        return cnp.sum(h)
    return f, (Array((8,)), Array((8,)))


def layers(L: int) -> tuple:
    def f(x, Ws):
        h = x
        for i in range(L):
            h = cnp.tanh(Ws[i] @ h)
        return cnp.sum(h)
    return f, (Array((8,)), tuple(Array((8, 8)) for _ in range(L)))


def grad_size(family: Callable[[int], tuple], L: int) -> tuple[int, int]:
    """The grad term's distinct nodes and their arguments in all."""
    f, specs = family(L)
    dom = specs if len(specs) > 1 else specs[0]
    term, _ = job_term(ct.compile(f, *specs), dom, "grad")
    nodes = list(term.nodes())
    return len(nodes), sum(len(n.args) for n in nodes)


# nodes per added layer, with some room over what the front end makes today (59, 53, 50, 72-75); they
# were 150-600 at L = 100 and growing when the cotangents nested and the gradient's parts were parked
PER_LAYER: dict[Callable[[int], tuple], int] = {mlp: 70, sin_cos: 65, tanh_hw: 60, layers: 90}


@pytest.mark.parametrize("family", list(PER_LAYER), ids=lambda f: f.__name__)
def test_a_layer_costs_a_constant(family: Callable[[int], tuple]) -> None:
    (n10, a10), (n20, a20), (n40, a40) = (grad_size(family, L) for L in (10, 20, 40))
    bound = PER_LAYER[family]
    assert n20 - n10 <= 10 * bound and n40 - n20 <= 20 * bound, (n10, n20, n40)
    assert a20 - a10 <= 11 * bound and a40 - a20 <= 22 * bound, (a10, a20, a40)
    # linear, not quadratic: the last 20 layers cost what the 10 before them did, twice over
    assert n40 - n20 <= 2.2 * (n20 - n10) and a40 - a20 <= 2.2 * (a20 - a10), (n10, n20, n40)
