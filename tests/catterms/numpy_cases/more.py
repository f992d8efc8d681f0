"""Cases for the functions autograd's test suite reaches beyond the families: partitions, gradients, traced
``linspace`` endpoints, numpy's complex vocabulary on real arrays, and unpacking tuple results."""

from __future__ import annotations

from numpy_cases import Case
from prim_cases.gen import normal, pair, spd


def one(make):
    return lambda rng: (make(rng),)


CASES = [
    Case("partition", one(normal(7)), kwargs={"kth": 3}),
    Case("partition", one(normal(3, 6)), kwargs={"kth": [0, 2, 5], "axis": 1}),
    Case("partition", one(normal(2, 4)), kwargs={"kth": 1, "axis": None}),
    Case("argpartition", one(normal(7)), kwargs={"kth": 2}),
    Case("gradient", one(normal(6))),
    Case("gradient", one(normal(4, 5)), args=(0.5,), id="gradient-2d-spacing"),
    Case("gradient", one(normal(4, 5)), args=(0.5, 2.0), kwargs={"edge_order": 2}, id="gradient-2d-two-spacings"),
    Case("gradient", one(normal(4, 5)), kwargs={"axis": 1}, id="gradient-axis"),
    Case("linspace", pair(normal(), normal(3)), args=(5,), id="linspace-traced"),
    Case("linspace", pair(normal(), normal()), kwargs={"num": 4, "endpoint": False, "retstep": True},
         id="linspace-traced-retstep"),
    Case("real", one(normal(3))),
    Case("imag", one(normal(3))),
    Case("conj", one(normal(3))),
    Case("conjugate", one(normal(2, 2))),
    Case("angle", one(normal(4)), derivatives=False),
    Case("angle", one(normal(4)), kwargs={"deg": True}, derivatives=False),
    Case("real_if_close", one(normal(3))),
    Case("iscomplex", one(normal(3))),
    Case("isreal", one(normal(3))),
    Case("iscomplexobj", one(normal(3)), dispatch=False),
    Case("isrealobj", one(normal(3)), dispatch=False),
    Case("std", one(normal(1, 3)), kwargs={"axis": 0}, id="std-of-one-element"),
    Case("vstack", pair(normal(3), normal(3)), call=lambda f, a, b: f((a, b), casting="same_kind"),
         id="vstack-casting"),
    Case("concatenate", pair(normal(3), normal(2)), call=lambda f, a, b: f((a, b), casting="same_kind"),
         id="concatenate-casting"),
    Case("linalg.eigh", one(spd(3)), call=lambda f, a: f(a)[0], id="eigh-eigenvalues-by-index"),
    Case("linalg.eigh", one(spd(3)), call=lambda f, a: f(a).eigenvalues.sum() + abs(f(a).eigenvectors).sum(),
         id="eigh-fields"),
    Case("linalg.slogdet", one(spd(3)), call=lambda f, a: f(a)[1], id="slogdet-logabsdet-by-index"),
    Case("linalg.svd", one(normal(3, 2)), call=lambda f, a: f(a, full_matrices=False).S, id="svd-S-field"),
    Case("r_", pair(normal(3), normal(2)), call=lambda f, a, b: f[a, b, 0:2, 5.0], dispatch=False, id="r_"),
    Case("c_", pair(normal(3), normal(3, 2)), call=lambda f, a, b: f[a, b], dispatch=False, id="c_"),
]
