"""Cases for ``catterms.numpy``'s products (:mod:`catterms.numpy._products`)."""

from __future__ import annotations

from numpy_cases import Case
from prim_cases.gen import bools, ints, normal, pair, triple


def one_of(make):
    return lambda rng: (make(rng),)

CASES = [
    Case("matmul", pair(normal(2, 3, 4), normal(4, 2))),
    Case("dot", pair(normal(3, 4), normal(4, 2))),
    Case("dot", pair(normal(2, 3, 4), normal(5, 4, 2))),
    Case("dot", pair(normal(2, 3), normal(3))),
    Case("dot", pair(normal(3), normal(2, 3, 4))),
    Case("dot", pair(normal(3), normal())),
    Case("dot", pair(ints(0, 4, 2, 3), ints(0, 4, 3))),
    Case("vdot", pair(normal(2, 3), normal(3, 2))),
    Case("inner", pair(normal(2, 3), normal(4, 3))),
    Case("inner", pair(normal(3), normal(3))),
    Case("outer", pair(normal(3), normal(2, 2))),
    Case("tensordot", pair(normal(2, 3, 4), normal(3, 4, 2))),
    Case("tensordot", pair(normal(2, 3, 4), normal(4, 3, 2)), kwargs={"axes": ([1, 2], [1, 0])}),
    Case("tensordot", pair(normal(2, 3), normal(4)), kwargs={"axes": 0}),
    Case("kron", pair(normal(2, 3), normal(2, 2))),
    Case("kron", pair(normal(3), normal(2, 2))),
    Case("cross", pair(normal(2, 3), normal(3))),
    Case("cross", pair(normal(3, 2), normal(2, 3)), kwargs={"axisa": 0, "axisc": 0}),
    Case("einsum", pair(normal(2, 3), normal(3, 4)), call=lambda f, a, b: f("ij,jk", a, b), id="einsum-ij,jk"),
    Case("einsum", triple(normal(2, 3), normal(3, 3), normal(3)), call=lambda f, a, b, c: f("ij,jk,k->i", a, b, c),
         id="einsum-three"),
    Case("einsum", pair(normal(2, 2, 3), normal(3)), call=lambda f, a, b: f("...j,j", a, b), id="einsum-ellipsis"),
    Case("einsum", one_of(normal(3, 3)), call=lambda f, a: f("ii->i", a), id="einsum-diagonal"),
    Case("einsum", pair(normal(3), normal(3)), call=lambda f, a, b: f("i,j", a, b), id="einsum-implicit-outer"),
    Case("einsum", one_of(normal(2, 3)), call=lambda f, a: f(a, [0, 1], [1, 0]), id="einsum-interleaved-one"),
    Case("einsum", pair(normal(2, 3), normal(3, 4)), call=lambda f, a, b: f(a, [0, 1], b, [1, 2]),
         id="einsum-interleaved-implicit"),
    Case("einsum", pair(normal(2, 3), normal(2, 3)), call=lambda f, a, b: f(a, [Ellipsis, 1], b, [Ellipsis, 1], [Ellipsis]),
         id="einsum-interleaved-ellipsis"),
    *[Case("convolve", pair(normal(5), normal(3)), args=(mode,)) for mode in ("full", "same", "valid")],
    *[Case("convolve", pair(normal(2), normal(5)), args=(mode,)) for mode in ("full", "same", "valid")],
    Case("convolve", pair(normal(4), ints(-3, 4, 2)), kwargs={"mode": "same"}),
    Case("convolve", pair(ints(-3, 4, 3), ints(-3, 4, 4))),
    Case("convolve", pair(bools(3), bools(2)), kwargs={"mode": "same"}),
    Case("convolve", pair(normal(), normal(3)), id="convolve-scalar"),
    Case("correlate", pair(normal(5), normal(3))),
    *[Case("correlate", pair(normal(2), normal(5)), args=(mode,)) for mode in ("full", "same", "valid")],
    *[Case("correlate", pair(normal(3), normal(4)), args=(mode,)) for mode in ("same", 0)],
    Case("correlate", pair(ints(-3, 4, 4), normal(2)), kwargs={"mode": "full"}),
]
