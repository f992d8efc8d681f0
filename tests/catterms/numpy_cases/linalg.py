"""Cases for ``catterms.numpy.linalg`` and ``catterms.scipy.linalg``: tiny, well-conditioned matrices."""

from __future__ import annotations

import numpy as np

from numpy_cases import Case
from prim_cases.decomp import well
from prim_cases.gen import fixed, ints, normal, pair, spd, triple


def one(make):
    return lambda rng: (make(rng),)


CASES = [
    Case("linalg.norm", one(normal(2, 3))),
    Case("linalg.norm", one(normal(2, 3)), kwargs={"keepdims": True}),
    Case("linalg.norm", one(ints(-3, 4, 4)), kwargs={"ord": 1}),
    *[Case("linalg.norm", one(normal(2, 4)), kwargs={"ord": o, "axis": 1}) for o in (None, 1, 2, 3, np.inf, -np.inf)],
    Case("linalg.norm", one(normal(2, 4)), kwargs={"ord": 0, "axis": -1}),
    Case("linalg.norm", one(normal(4)), kwargs={"ord": 0.5}),
    *[Case("linalg.norm", one(normal(3, 2, 4)), kwargs={"ord": o, "axis": (2, 0), "keepdims": True})
      for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)],
    Case("linalg.norm", one(normal(3, 3)), kwargs={"ord": 2}),
    Case("linalg.inv", one(well(3))),
    Case("linalg.inv", one(fixed(np.array([[2, 1], [1, 3]]))), id="inv-int"),
    Case("linalg.pinv", one(normal(4, 3))),
    Case("linalg.solve", pair(well(3, (2,)), normal(3))),
    Case("linalg.solve", pair(well(3), normal(3, 2))),
    Case("linalg.det", one(well(3, (2,)))),
    Case("linalg.slogdet", one(well(3))),
    Case("linalg.cholesky", one(spd(3))),
    Case("linalg.cholesky", one(spd(3, (2,))), kwargs={"upper": True}),
    Case("linalg.eigh", one(spd(3))),
    Case("linalg.eigh", one(spd(3)), kwargs={"UPLO": "U"}),
    Case("linalg.eigvalsh", one(spd(3, (2,)))),
    Case("linalg.svd", one(normal(3, 3))),
    Case("linalg.svd", one(normal(2, 4, 3)), kwargs={"full_matrices": False}),
    Case("linalg.svd", one(normal(3, 4)), kwargs={"compute_uv": False}),
    Case("linalg.qr", one(normal(4, 3))),
    Case("linalg.matrix_power", one(well(3)), args=(5,)),
    Case("linalg.matrix_power", one(well(2, (2,))), args=(-2,), rtol=1e-9),
    Case("linalg.matrix_power", one(normal(2, 2)), args=(0,)),
    Case("linalg.multi_dot", lambda rng: (tuple(normal(*s)(rng) for s in ((3,), (3, 5), (5, 2), (2, 4))),)),
    Case("scipy.linalg.solve_triangular", pair(well(3), normal(3, 2)), kwargs={"lower": True}),
    Case("scipy.linalg.solve_triangular", pair(well(3), normal(3)), kwargs={"trans": "T", "unit_diagonal": True}),
    Case("scipy.linalg.cho_factor", one(spd(3))),
    Case("scipy.linalg.cho_factor", one(spd(3)), kwargs={"lower": True}),
    Case("scipy.linalg.cho_solve", pair(spd(3), normal(3)), id="cho_solve",
         call=lambda f, c, b: f((np.linalg.cholesky(c), True), b)),
    # np.linalg.cholesky of a traced matrix dispatches to catterms: the factor is traced too
    Case("scipy.linalg.cho_solve", pair(spd(3), normal(3, 2)), id="cho_solve-traced-factor",
         call=lambda f, a, b: f((np.linalg.cholesky(a), True), b)),
    Case("scipy.linalg.sqrtm", one(spd(3))),
    Case("scipy.linalg.sqrtm", one(well(3))),
    Case("scipy.linalg.sqrtm", one(spd(2, (2,)))),
    Case("scipy.linalg.sqrtm", one(fixed(np.array([[4, 1], [0, 9]]))), id="sqrtm-int"),
    Case("scipy.linalg.sqrtm", one(fixed(np.array([[0.0, -1.0], [1.0, 0.0]]))), id="sqrtm-complex-eigenvalues"),
    Case("scipy.linalg.solve_sylvester", triple(well(3), well(2), normal(3, 2))),
    Case("scipy.linalg.solve_sylvester", triple(well(2, (2,)), well(2, (2,)), normal(2, 2, 2))),
    Case("scipy.linalg.solve_sylvester", triple(ints(-2, 3, 2, 2), well(2), ints(-2, 3, 2, 2)), id="sylvester-int",
         call=lambda f, a, b, q: f(a + 4 * np.eye(2, dtype=int), b, q)),
]
