"""Cases for :mod:`catterms.prims.indexing`: static indices of every form, gathers with traced (and repeated)
indices, and updates of every mode with repeated indices."""

from __future__ import annotations

import numpy as np

from .gen import fixed, normal, pair, triple, tuple_of

REPEATED = fixed(np.array([[1, 3], [1, 0]]))  # traced indices with a repeat
MASK = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, False]])
ALL = ("s", None, None, None)


def _at(ufunc: np.ufunc) -> object:
    def ref(x: tuple) -> np.ndarray:
        out = x[0].copy()
        ufunc.at(out, (slice(None), x[2]), x[1])
        return out
    return ref


def _set(x: tuple) -> np.ndarray:
    out = x[0].copy()
    out[x[2]] = x[1]  # numpy: the last of repeated writes stays
    return out


CASES = {
    "index": [({"idx": slice(1, None)}, normal(5), lambda x: x[1:]),
              ({"idx": (1, slice(None, None, -1))}, normal(3, 4), lambda x: x[1][::-1]),
              ({"idx": (Ellipsis, None, 0)}, normal(2, 3), lambda x: x[:, 0][:, None]),
              ({"idx": [0, 2, 0]}, normal(4), lambda x: np.array([x[0], x[2], x[0]])),
              ({"idx": (slice(None), np.array([[0, 3], [3, 3]]))}, normal(2, 4),
               lambda x: np.stack([x[:, [0, 3]], x[:, [3, 3]]], axis=1)),
              ({"idx": (np.array([0, 2]), None, np.array([[1], [-1]]))}, normal(3, 4),
               lambda x: np.array([[x[0, 1], x[2, 1]], [x[0, 3], x[2, 3]]])[:, :, None]),
              ({"idx": MASK}, normal(3, 4), lambda x: np.array([x[0, 0], x[0, 2], x[1, 2], x[1, 3], x[2, 0], x[2, 1]])),
              ({"idx": (Ellipsis, np.array([True, False, True]))}, normal(2, 3), lambda x: x[:, ::2])],
    "gather": [({"idx": (ALL, ("t",))}, pair(normal(3, 4), REPEATED),
                lambda x: np.moveaxis(np.array([[x[0][:, j] for j in row] for row in x[1]]), 2, 0)),
               ({"idx": (("t",), ("t",))}, triple(normal(3, 4), fixed(np.array([2, 0, 2])), fixed(np.array([[1], [-1]]))),
                lambda x: np.array([[x[0][i, j] for i in x[1]] for j in x[2][:, 0]])),
               ({"idx": (("t",), ("a", (1, 3)))}, pair(normal(4, 5), fixed(np.array(-1))),
                lambda x: x[0][3, [1, 3]]),
               ({"idx": (("t",),)}, pair(normal(4, 2), fixed(np.array([0, 0, 3], np.int32))),
                lambda x: np.stack([x[0][0], x[0][0], x[0][3]]))],
    "update": [({"idx": (ALL, ("t",)), "how": "add"}, triple(normal(2, 4), normal(3), fixed(np.array([1, 3, 1]))),
                _at(np.add)),
               ({"idx": (ALL, ("t",)), "how": "multiply"},
                triple(normal(2, 4), normal(2, 3), fixed(np.array([0, 2, 0]))), _at(np.multiply)),
               ({"idx": (ALL, ("t",)), "how": "min"}, triple(normal(2, 4), normal(2, 3), fixed(np.array([1, 3, 1]))),
                _at(np.minimum)),
               ({"idx": (ALL, ("t",)), "how": "max"}, triple(normal(2, 4), normal(3), fixed(np.array([2, 2, 2]))),
                _at(np.maximum)),
               ({"idx": (("t",),), "how": "set"}, triple(normal(5), normal(3), fixed(np.array([4, 1, 4]))), _set),
               ({"idx": ([0, 0], slice(1, 3)), "how": "set"}, pair(normal(2, 4), normal(2, 2)),
                lambda x: np.concatenate([np.concatenate([x[0][:1, :1], x[1][1:], x[0][:1, 3:]], 1), x[0][1:]])),
               ({"idx": slice(None, None, 2), "how": "max"}, pair(normal(5), normal(1)),
                lambda x: np.where(np.arange(5) % 2 == 0, np.maximum(x[0], x[1]), x[0])),
               ({"idx": (("t",), ("t",)), "how": "add"},
                tuple_of(normal(3, 3), normal(), fixed(np.array([0, 0])), fixed(np.array([2, 2]))),
                lambda x: x[0] + np.where((np.arange(3)[:, None] == 0) & (np.arange(3) == 2), 2 * x[1], 0))],
}
