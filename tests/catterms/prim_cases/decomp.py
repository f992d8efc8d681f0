"""Cases for :mod:`catterms.prims.decomp`: tiny, well-conditioned matrices (``spd`` or ``N(0, 1) + 3I``)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .gen import normal, pair, spd, triple


def well(n: int, batch: tuple[int, ...] = ()):
    """A general (non-symmetric) matrix far from singular: ``N(0, 1) + 3I``."""
    return lambda rng: rng.standard_normal(batch + (n, n)) + 3 * np.eye(n)


def _sylvester(x: tuple) -> np.ndarray:
    """X with A X + X B = Q by the Kronecker form (row-major): (A ⊗ I + I ⊗ Bᵀ) vec X = vec Q."""
    a, b, q = x
    m, n = q.shape
    return np.linalg.solve(np.kron(a, np.eye(n)) + np.kron(np.eye(m), b.T), q.ravel()).reshape(m, n)


def _sqrt_spd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(w)[..., None, :]) @ np.swapaxes(v, -1, -2)


def _sqrt_general(a: np.ndarray) -> np.ndarray:
    """By eigendecomposition (complex-conjugate eigenvalues give a real root)."""
    w, v = np.linalg.eig(a)
    return ((v * np.sqrt(w)) @ np.linalg.inv(v)).real


def _lower_sym(a: np.ndarray) -> np.ndarray:
    """The symmetric matrix of a's lower triangle: what a function reading that triangle sees."""
    return np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)


CASES = {
    "inv": [({}, well(3), lambda x: np.linalg.solve(x, np.eye(3))),
            ({}, well(2, (2,)), lambda x: np.linalg.solve(x, np.eye(2)))],
    "det": [({}, well(3), lambda x: np.prod(np.linalg.eigvals(x)).real),
            ({}, well(2, (3,)), lambda x: x[:, 0, 0] * x[:, 1, 1] - x[:, 0, 1] * x[:, 1, 0])],
    "slogdet": [({}, lambda rng: well(3)(rng) * np.array([[-1.0], [1], [1]]),
                 lambda x: (np.sign(np.linalg.det(x)), np.log(np.abs(np.linalg.det(x)))))],
    "pinv": [({}, normal(4, 3), lambda x: np.linalg.solve(x.T @ x, x.T)),
             ({}, normal(2, 3), lambda x: x.T @ np.linalg.inv(x @ x.T)),
             ({}, well(3, (2,)), lambda x: np.linalg.inv(x))],
    "solve": [({}, pair(well(3), normal(3)), lambda x: np.linalg.inv(x[0]) @ x[1]),
              ({}, pair(well(3, (2,)), normal(3)), lambda x: np.einsum("bij,j->bi", np.linalg.inv(x[0]), x[1])),
              ({}, pair(well(3), normal(2, 3, 2)), lambda x: np.linalg.inv(x[0]) @ x[1])],
    "solve_triangular": [
        ({"lower": True}, pair(well(3), normal(3)), lambda x: np.linalg.inv(np.tril(x[0])) @ x[1]),
        ({}, pair(well(3), normal(3, 2)), lambda x: np.linalg.inv(np.triu(x[0])) @ x[1]),
        ({"trans": 1, "lower": True, "unit_diagonal": True}, pair(well(3), normal(3)),
         lambda x: np.linalg.inv(np.tril(x[0], -1) + np.eye(3)).T @ x[1]),
        ({"trans": "T"}, pair(well(2, (2,)), normal(2, 2, 1)),
         lambda x: np.linalg.inv(np.swapaxes(np.triu(x[0]), -1, -2)) @ x[1]),
    ],
    "cholesky": [({}, spd(3), lambda x: scipy.linalg.cholesky(x, lower=True)),
                 ({}, spd(2, (2,)), lambda x: np.stack([scipy.linalg.cholesky(m, lower=True) for m in x])),
                 ({"upper": True}, spd(3), lambda x: scipy.linalg.cholesky(x, lower=False))],
    "eigh": [({}, spd(3), lambda x: tuple(np.linalg.eigh(_lower_sym(x)))),
             ({"UPLO": "U"}, spd(3, (2,)), lambda x: tuple(np.linalg.eigh(x, UPLO="U")))],
    "eigvalsh": [({}, spd(3), lambda x: scipy.linalg.eigvalsh(_lower_sym(x))),
                 ({"UPLO": "U"}, spd(2, (2,)), lambda x: np.linalg.eigh(x, UPLO="U")[0])],
    "svd": [({}, normal(3, 3), lambda x: tuple(scipy.linalg.svd(x))),
            ({"full_matrices": False}, normal(4, 3), lambda x: tuple(scipy.linalg.svd(x, full_matrices=False))),
            ({"full_matrices": False}, normal(2, 2, 3), lambda x: tuple(np.linalg.svd(x, full_matrices=False))),
            ({"compute_uv": False}, normal(3, 4), lambda x: np.sqrt(np.linalg.eigvalsh(x @ x.T))[::-1])],
    "qr": [({}, normal(4, 3), lambda x: tuple(scipy.linalg.qr(x, mode="economic"))),
           ({}, normal(2, 3, 3), lambda x: tuple(np.linalg.qr(x)))],
    "sqrtm": [({}, spd(3), _sqrt_spd),
              ({}, well(3), _sqrt_general),
              ({}, spd(2, (2,)), _sqrt_spd)],
    "solve_sylvester": [
        ({}, triple(well(3), well(2), normal(3, 2)), _sylvester),
        ({}, triple(well(2, (2,)), well(3, (2,)), normal(2, 2, 3)),
         lambda x: np.stack([_sylvester(tuple(p[i] for p in x)) for i in range(2)])),
    ],
}
