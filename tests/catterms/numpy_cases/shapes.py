"""Cases for ``catterms.numpy``'s shapes, joining, splitting and construction (:mod:`catterms.numpy._shapes`)."""

from __future__ import annotations

import numpy as np

from numpy_cases import Case
from prim_cases.gen import bools, ints, normal, pair, triple


def one(maker):
    return lambda rng: (maker(rng),)


def joined(*makers):
    """One traced argument: a tuple of arrays (what concatenate and its kin take)."""
    return lambda rng: (tuple(m(rng) for m in makers),)


NONE = lambda rng: ()  # noqa: E731  (constructors: no traced argument)

CASES = [
    # reshaping and permuting
    Case("reshape", one(normal(2, 3)), args=((3, -1),)),
    Case("transpose", one(normal(2, 3, 4)), kwargs={"axes": (1, 0, 2)}),
    Case("transpose", one(ints(0, 5, 2, 3))),
    Case("broadcast_to", one(normal(3)), args=((2, 3),)),
    Case("ravel", one(normal(2, 3))),
    Case("ravel", one(bools(2, 2))),
    Case("squeeze", one(normal(1, 3, 1))),
    Case("squeeze", one(ints(0, 4, 1, 3, 1)), kwargs={"axis": 2}),
    Case("expand_dims", one(normal(2, 3)), args=((0, 3),)),
    Case("expand_dims", one(ints(0, 4, 3)), args=(-1,)),
    Case("swapaxes", one(normal(2, 3, 4)), args=(0, -1)),
    Case("moveaxis", one(normal(2, 3, 4)), args=((0, 1), (2, 0))),
    Case("moveaxis", one(ints(0, 4, 2, 3)), args=(0, -1)),
    Case("rollaxis", one(normal(2, 3, 4)), args=(2, 1)),
    Case("rollaxis", one(normal(2, 3, 4)), args=(0, 3)),
    Case("atleast_1d", one(normal())),
    Case("atleast_1d", pair(normal(), ints(0, 3, 2))),
    Case("atleast_2d", pair(normal(3), normal(2, 2))),
    Case("atleast_3d", triple(normal(), normal(3), ints(0, 3, 2, 2))),
    # reordering
    Case("flip", one(normal(2, 3))),
    Case("flip", one(ints(0, 9, 2, 3)), kwargs={"axis": 1}),
    Case("flipud", one(normal(3, 2))),
    Case("fliplr", one(normal(3, 2))),
    Case("rot90", one(normal(2, 3))),
    Case("rot90", one(normal(2, 3, 2)), kwargs={"k": 3, "axes": (2, 0)}),
    Case("rot90", one(ints(0, 9, 2, 3)), kwargs={"k": 2}),
    Case("roll", one(normal(2, 3)), args=(1,)),
    Case("roll", one(normal(2, 3)), args=((1, -1, 2),), kwargs={"axis": (0, 1, 1)}),
    Case("roll", one(ints(0, 9, 4)), args=(-1,), kwargs={"axis": 0}),
    Case("tile", one(normal(2, 3)), args=((2, 1, 2),)),
    Case("tile", one(ints(0, 9, 3)), args=(2,)),
    Case("repeat", one(normal(2, 3)), args=(2,)),
    Case("repeat", one(normal(2, 3)), args=([1, 0, 3],), kwargs={"axis": 1}),
    Case("repeat", one(bools(2, 2)), args=(2,), kwargs={"axis": 0}),
    # joining and splitting
    Case("concatenate", joined(normal(2, 3), normal(2, 1)), kwargs={"axis": 1}),
    Case("concatenate", joined(normal(2, 2), ints(0, 4, 3)), kwargs={"axis": None}),
    Case("concatenate", one(normal(2, 3)), id="concatenate-rows"),
    Case("stack", one(normal(1, 3)), kwargs={"axis": 1}, id="stack-one-part"),
    Case("stack", joined(normal(2, 3), normal(2, 3)), kwargs={"axis": 1}),
    Case("stack", joined(normal(3), ints(0, 4, 3)), kwargs={"axis": -1}),
    Case("hstack", joined(normal(3), normal(2))),
    Case("hstack", joined(normal(2, 1), ints(0, 3, 2, 2))),
    Case("vstack", joined(normal(3), normal(2, 3))),
    Case("row_stack", joined(normal(3), normal(3)), ref=np.vstack, dispatch=False),
    Case("dstack", joined(normal(2), normal(1, 2, 1))),
    Case("column_stack", joined(normal(3), normal(3, 2), ints(0, 3, 3))),
    Case("append", pair(normal(2, 2), normal(3))),
    Case("append", pair(normal(2, 2), ints(0, 3, 1, 2)), kwargs={"axis": 0}),
    Case("split", one(normal(4, 3)), args=(2,)),
    Case("split", one(normal(2, 5)), args=([1, 3],), kwargs={"axis": 1}),
    Case("array_split", one(normal(5)), args=(3,)),
    Case("array_split", one(ints(0, 9, 2, 5)), args=([2, 9],), kwargs={"axis": -1}),
    Case("hsplit", one(normal(2, 4)), args=(2,)),
    Case("hsplit", one(normal(4)), args=([1],)),
    Case("vsplit", one(normal(4, 2)), args=(2,)),
    Case("dsplit", one(normal(1, 2, 4)), args=([3],)),
    # padding
    Case("pad", one(normal(2, 3)), args=(((1, 2), (0, 1)),)),
    Case("pad", one(normal(2, 3)), args=(1,), kwargs={"constant_values": ((1.5, 2.0), (0.0, -1.0))}),
    Case("pad", one(ints(0, 9, 3)), args=(2,), kwargs={"constant_values": 7}),
    Case("pad", one(normal(3, 2)), args=((2, 1),), kwargs={"mode": "edge"}),
    Case("pad", one(normal(3, 4)), args=(((2, 1), (3, 0)),), kwargs={"mode": "reflect"}),
    Case("pad", one(normal(3)), args=((4, 5),), kwargs={"mode": "symmetric"}),
    Case("pad", one(ints(0, 9, 2, 3)), args=((1, 4),), kwargs={"mode": "wrap"}),
    # diagonals and triangles
    Case("diagonal", one(normal(3, 4))),
    Case("diagonal", one(normal(2, 3, 4)), kwargs={"offset": -1, "axis1": 2, "axis2": 1}),
    Case("diagonal", one(ints(0, 9, 3, 3)), kwargs={"offset": 5}),
    Case("diag", one(normal(3))),
    Case("diag", one(normal(3)), args=(2,)),
    Case("diag", one(ints(0, 9, 2)), args=(-3,)),
    Case("diag", one(normal(3, 4)), args=(1,)),
    Case("trace", one(normal(3, 4))),
    Case("trace", one(normal(2, 3, 3)), kwargs={"offset": -1, "axis1": 1, "axis2": 2}),
    Case("trace", one(ints(0, 9, 3, 3))),
    Case("tril", one(normal(3, 4))),
    Case("tril", one(normal(2, 3, 3)), args=(-1,)),
    Case("triu", one(normal(3, 4)), args=(1,)),
    Case("triu", one(ints(0, 9, 3, 3))),
    Case("select", lambda rng: ((normal(3)(rng) > 0, bools(3)(rng)), (normal(3)(rng), normal(2, 3)(rng)))),
    Case("select", lambda rng: ((bools(3)(rng), bools(3)(rng)), (ints(0, 9, 3)(rng), ints(0, 9, 1)(rng))), args=(-1,)),
    # construction from traced arrays (np.array converts with __array__, which no protocol lets us answer:
    # cnp.array is the spelling)
    Case("array", joined(normal(2), normal(2)), dispatch=False),
    Case("array", lambda rng: (((normal()(rng), 1.0), (2, normal()(rng))),), id="array-nested-scalars",
         dispatch=False),  # a float and an int traced scalar among them: numpy's promotion
    Case("array", joined(ints(0, 3, 2), ints(0, 3, 2)), kwargs={"dtype": np.float32}, dispatch=False),
    Case("array", one(normal(3)), kwargs={"ndmin": 3}, dispatch=False),
    Case("asarray", one(normal(2, 2)), dispatch=False),
    Case("asarray", one(ints(0, 3, 2)), kwargs={"dtype": float}, dispatch=False),
    Case("zeros_like", one(normal(2, 3))),
    Case("zeros_like", one(ints(0, 3, 2)), kwargs={"dtype": np.float32}),
    Case("ones_like", one(ints(0, 3, 2, 2))),
    Case("full_like", one(normal(3)), args=(2.5,)),
    Case("full_like", pair(normal(2, 2), normal()), id="full_like-traced-fill"),
    Case("empty_like", one(normal(2)), ref=np.zeros_like),
    Case("meshgrid", pair(normal(3), normal(2))),
    Case("meshgrid", triple(normal(2), ints(0, 3, 3), normal(1)), kwargs={"indexing": "ij"}),
    Case("meshgrid", pair(normal(3), normal(2)), kwargs={"sparse": True}),
    # constants
    Case("zeros", NONE, args=((2, 3),)),
    Case("zeros", NONE, args=(3,), kwargs={"dtype": np.int32}),
    Case("ones", NONE, args=((2,),), kwargs={"dtype": bool}),
    Case("empty", NONE, args=((2, 2),), ref=np.zeros),
    Case("full", NONE, args=((2, 2), 1.5)),
    Case("full", NONE, args=(3, 4)),
    Case("eye", NONE, args=(3,)),
    Case("eye", NONE, args=(2, 4), kwargs={"k": 1, "dtype": np.float32}),
    Case("identity", NONE, args=(3,)),
    Case("tri", NONE, args=(3, 4, -1)),
    Case("arange", NONE, args=(5,)),
    Case("arange", NONE, args=(1.0, 2.0, 0.25)),
    Case("linspace", NONE, args=(0.0, 1.0, 5)),
    Case("linspace", NONE, args=(0, 3), kwargs={"num": 4, "endpoint": False, "retstep": True}),
    Case("indices", NONE, args=((2, 3),)),
]
