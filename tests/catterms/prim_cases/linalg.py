"""Cases for :mod:`catterms.prims.linalg`."""

from __future__ import annotations

import numpy as np

from .gen import normal, pair

CASES = {
    "matmul": [({}, pair(normal(3, 4), normal(4, 2)), lambda x: np.einsum("ij,jk->ik", *x)),
               ({}, pair(normal(4), normal(4, 2)), lambda x: np.einsum("j,jk->k", *x)),
               ({}, pair(normal(3, 4), normal(4)), lambda x: np.einsum("ij,j->i", *x)),
               ({}, pair(normal(4), normal(4)), lambda x: np.einsum("j,j->", *x)),
               ({}, pair(normal(2, 3, 4), normal(4, 5)), lambda x: np.einsum("bij,jk->bik", *x))],
}
