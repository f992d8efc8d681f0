"""Hypothesis strategies: random well-typed terms with inputs of their domain, for any catterms test.

``term_and_input()`` draws ``(term, x)``: a term over the public primitives and every combinator —
n-ary compose/cross/fork/join, proj/dup/jam/inj (with and without ``like``), consts, static indexing
with every index form — with some subterms shared (the same object used twice), and an input value of
the term's domain type. Primitives are the smooth, bounded ones plus the reductions and structural
maps, so derivative tests can compare against finite differences; values lie in [-2, 2].
"""

from __future__ import annotations

from typing import Any, Callable

from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import catterms as ct
from catterms import terms as T
from catterms.types import Array, Type

SHAPES: tuple[tuple[int, ...], ...] = ((), (3,), (2, 3))
DTYPES = ("float64", "float32")
SMOOTH = ("sin", "cos", "tanh", "sigmoid", "neg")
BINARY = ("add", "sub", "mul")
REDUCTIONS = ("sum", "mean", "max", "logsumexp")

Gen = Callable[[Any, Type, int, dict], T.Term]


@st.composite
def array_types(draw: Any, dtypes: tuple[str, ...] = DTYPES) -> Array:
    """A small array type; float64 three times as often as float32."""
    dtype = draw(st.sampled_from(dtypes[:1] * 3 + dtypes[1:]))
    return Array(draw(st.sampled_from(SHAPES)), dtype)


def types(max_width: int = 3) -> st.SearchStrategy[Type]:
    """An array type or a (possibly nested) product of them."""
    return st.recursive(array_types(), lambda inner: st.lists(inner, min_size=2, max_size=max_width).map(tuple),
                        max_leaves=4)


def values(t: Type) -> st.SearchStrategy[Any]:
    """A value of type ``t`` with entries in [-2, 2]."""
    if isinstance(t, tuple):
        return st.tuples(*(values(c) for c in t))
    width = 64 if t.dtype == "float64" else 32
    return hnp.arrays(t.dtype, t.shape, elements=st.floats(-2, 2, width=width))


@st.composite
def index_for(draw: Any, shape: tuple[int, ...]) -> tuple:
    """A static index valid for ``shape``: ints, slices, at most one integer array, None, Ellipsis."""
    items: list[Any] = []
    used_array = False
    for d in shape[:draw(st.integers(0, len(shape)))]:
        kind = draw(st.sampled_from(("int", "slice", "array"))) if d else "slice"
        if kind == "array" and not used_array:
            used_array = True
            items.append(draw(st.lists(st.integers(-d, d - 1), min_size=1, max_size=3)))
        elif kind == "int":
            items.append(draw(st.integers(-d, d - 1)))
        else:
            start, stop = draw(st.sampled_from((None, 0, 1))), draw(st.sampled_from((None, d, -1)))
            items.append(slice(start, stop, draw(st.sampled_from((None, 1, 2, -1)))))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    if draw(st.booleans()):
        items.append(Ellipsis)
    return tuple(items)


def _array_ops(draw: Any, a: Array, fuel: int, pool: dict) -> T.Term:
    """A term on an array domain: a primitive, possibly after another term."""
    kind = draw(st.sampled_from(("smooth", "scale", "pow", "reduce", "reshape", "transpose", "index",
                                 "broadcast")))
    if kind == "smooth":
        return T.prim(draw(st.sampled_from(SMOOTH)))
    if kind == "scale":
        return T.scale(draw(st.floats(-2, 2)))
    if kind == "pow":
        return T.prim("pow", p=2.0)
    if kind == "reduce":
        axis = draw(st.sampled_from((None,) + tuple(range(-a.ndim, a.ndim))))
        return T.prim(draw(st.sampled_from(REDUCTIONS)), axis=axis, keepdims=draw(st.booleans()))
    if kind == "reshape":
        return T.prim("reshape", shape=draw(st.sampled_from(((-1,), (1, a.size), (a.size, 1)))))
    if kind == "transpose" and a.ndim >= 2:
        return T.prim("transpose", axes=draw(st.sampled_from((None, (1, 0)))))
    if kind == "index":
        return T.prim("index", idx=draw(index_for(a.shape)))
    return T.prim("broadcast_to", shape=(2,) + a.shape)


def _tuple_ops(draw: Any, t: tuple, fuel: int, pool: dict) -> T.Term:
    """A term on a product domain: projections, cross, jam/join, binary primitives, stacking.

    Primitives may not fit the shapes (``term_on`` then falls back to the identity)."""
    n = len(t)
    arrays = all(isinstance(c, Array) for c in t)
    same = all(c == t[0] for c in t)
    kinds = ["proj", "cross"]
    if same:
        kinds += ["jam", "join"]
    if arrays and n == 2:
        kinds += ["binary", "matmul"]
    if arrays and same:
        kinds += ["stack"] + (["concatenate"] if t[0].ndim >= 1 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "proj":
        return T.proj(draw(st.integers(0, n - 1)), n)
    if kind == "cross":
        return T.cross(*(term_on(draw, c, fuel // n, pool) for c in t))
    if kind == "jam":
        return T.jamn(n)
    if kind == "join":
        return T.join(*(_endo(draw, c, fuel // n, pool) for c in t))
    if kind == "binary":
        return T.prim(draw(st.sampled_from(BINARY)))
    if kind == "matmul":
        return T.prim("matmul")
    return T.prim(kind, axis=0)


def _endo(draw: Any, t: Type, fuel: int, pool: dict) -> T.Term:
    """A term from ``t`` to ``t`` (so that join's branches agree): a chain of smooth maps, or identity."""
    if not isinstance(t, Array) or fuel <= 0 or not draw(st.booleans()):
        return T.identity
    return T.compose(_endo(draw, t, fuel - 1, pool), T.prim(draw(st.sampled_from(SMOOTH))))


def _fits(term: T.Term, dom: Type) -> bool:
    """Whether a primitive drawn for ``dom`` accepts it (shapes that do not broadcast, empty axes, ...)."""
    try:
        ct.infer(term, dom)
    except ct.TermTypeError:
        return False
    return True


def term_on(draw: Any, dom: Type, fuel: int, pool: dict) -> T.Term:
    """A random well-typed term with domain ``dom``; ``pool`` holds earlier terms by domain, for sharing."""
    shared = pool.get(dom, [])
    kinds = ["leaf"] + (["share"] if shared else [])
    if fuel > 0:  # weighted towards the combinators that nest, so that terms grow to about `fuel` nodes
        kinds += ["compose"] * 4 + ["fork"] * 2 + ["leaf"] * 3 + ["dup", "inj", "inj_like", "const"]
    kind = draw(st.sampled_from(kinds))
    if kind == "share":
        return draw(st.sampled_from(shared))
    if kind == "leaf":
        term = (_array_ops if isinstance(dom, Array) else _tuple_ops)(draw, dom, fuel - 1, pool)
        term = term if _fits(term, dom) else T.identity
    elif kind == "compose":
        f = term_on(draw, dom, fuel // 2, pool)
        term = T.compose(term_on(draw, ct.infer(f, dom), fuel // 2, pool), f)
    elif kind == "fork":
        k = draw(st.integers(2, 3))
        term = T.fork(*(term_on(draw, dom, fuel // k, pool) for _ in range(k)))
    elif kind == "dup":
        term = T.dupn(draw(st.integers(2, 3)))
    elif kind == "inj":
        n = draw(st.integers(2, 3))
        term = T.inj(draw(st.integers(0, n - 1)), n)
    elif kind == "inj_like":
        n, other = draw(st.integers(2, 3)), draw(array_types())
        i = draw(st.integers(0, n - 1))
        term = T.inj(i, n, tuple(dom if j == i else other for j in range(n)))
    else:
        value = draw(values(draw(array_types())))
        term = T.const(value, dtype=value.dtype)
    ct.infer(term, dom)  # the combinators above are well-typed by construction; fail loudly if not
    pool.setdefault(dom, []).append(term)
    return term


@st.composite
def terms_on(draw: Any, dom: Type, fuel: int = 12) -> T.Term:
    """A random well-typed term with domain ``dom``."""
    return term_on(draw, dom, fuel, {})


@st.composite
def term_and_input(draw: Any, fuel: int = 12) -> tuple[T.Term, Any]:
    """``(term, x)``: a random well-typed term and an input of its domain."""
    dom = draw(st.one_of(array_types(), st.tuples(array_types(), array_types())))
    return draw(terms_on(dom, fuel)), draw(values(dom))
