"""Cases for :mod:`catterms.prims.linalg`."""

from __future__ import annotations

import numpy as np

from .gen import ints, normal, pair, triple

CASES = {
    "matmul": [({}, pair(normal(3, 4), normal(4, 2)), lambda x: np.einsum("ij,jk->ik", *x)),
               ({}, pair(normal(4), normal(4, 2)), lambda x: np.einsum("j,jk->k", *x)),
               ({}, pair(normal(3, 4), normal(4)), lambda x: np.einsum("ij,j->i", *x)),
               ({}, pair(normal(4), normal(4)), lambda x: np.einsum("j,j->", *x)),
               ({}, pair(normal(2, 3, 4), normal(4, 5)), lambda x: np.einsum("bij,jk->bik", *x))],
    "einsum": [({"subscripts": "ij,jk->ik"}, pair(normal(3, 4), normal(4, 2)), lambda x: x[0] @ x[1]),
               ({"subscripts": "ij,ij"}, pair(normal(2, 3), normal(2, 3)), lambda x: np.sum(x[0] * x[1])),
               ({"subscripts": "i,j"}, pair(normal(2), normal(3)), lambda x: np.outer(x[0], x[1])),
               ({"subscripts": "ii,i->i"}, pair(normal(3, 3), normal(3)), lambda x: np.diag(x[0]) * x[1]),
               ({"subscripts": "ij,k->i"}, pair(normal(2, 3), normal(4)), lambda x: x[0].sum(1) * x[1].sum()),
               ({"subscripts": "...ij,...jk"}, pair(normal(1, 2, 3), normal(4, 3, 2)), lambda x: x[0] @ x[1]),
               ({"subscripts": "ij,jk,kl->il"}, triple(normal(2, 3), normal(3, 4), normal(4, 2)),
                lambda x: x[0] @ x[1] @ x[2]),
               ({"subscripts": "ij,j->i"}, pair(normal(2, 3), ints(0, 3, 3)), lambda x: x[0] @ x[1])],
}
