"""Matrix functions and decompositions: inv, pinv, det, slogdet, solve, solve_triangular, cholesky, eigh,
eigvalsh, svd, qr, sqrtm and solve_sylvester, on a matrix or a stack of them (the last two axes), as
numpy.linalg and scipy.linalg.

Derivatives are the standard matrix-calculus rules (Giles, "An extended collection of matrix derivative
results"; for svd and qr the forms JAX uses), each a composition of linear maps — ``matmul_left`` and
``matmul_right`` by residual matrices, ``scale`` by masks, ``transpose`` of the last two axes, and
``sym`` below — so forward and reverse mode share them. Residuals (an inverse, the factors) are computed
once when the derivative is generated.

Conventions:

* A function that reads one triangle (``cholesky``, ``eigh`` and ``eigvalsh`` with ``UPLO``,
  ``solve_triangular``) is differentiated as the function of the whole array it is: the other triangle
  has zero derivative. For cholesky and eigh the tangent ``t`` acts as the symmetric matrix built from its
  read triangle, so on symmetric tangents this is the usual derivative (JAX symmetrizes ``(t + tᵀ)/2``
  instead, which agrees there; off symmetric tangents only ours matches numpy's function).
* Where the derivative does not exist, the formulas are evaluated as JAX evaluates them: eigh at a
  repeated eigenvalue gives ``inf`` in the eigenvectors' derivative; svd at repeated or zero singular
  values drops the undefined terms (JAX's zero convention); inv, det, slogdet and solve need an invertible
  matrix; pinv's derivative holds where the rank is locally constant.
* sqrtm is real only: a matrix with a negative real eigenvalue (whose square root scipy returns as a
  complex array) is refused when it is evaluated. Its derivative and solve_sylvester's each solve one more
  Sylvester equation (the internal ``sylvester`` row, whose transpose solves the transposed equation);
  it exists where that equation has one solution (for sqrtm, no zero eigenvalue).
* The derivative of svd with ``full_matrices=True`` of a non-square matrix (whose extra singular vectors
  are arbitrary) and of qr of a wide matrix are refused, as in JAX.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg

from ..codegen import apply
from ..errors import EvaluationError, TermTypeError
from ..types import Array, Type, broadcast_shapes
from .elementwise import scaled
from .table import TABLE, Rule, applied, p_bool, register, want_arrays, want_float

# --- residuals: numpy on values that may be symbolic ------------------------------------------------------


def _mT(x: Any) -> Any:
    return apply(np.swapaxes, (x, -1, -2), {}, lambda: (x.shape[:-2] + x.shape[:-3:-1], x.dtype))


def _mm(a: Any, b: Any) -> Any:
    shape = broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    return apply(np.matmul, (a, b), {}, lambda: (shape, np.result_type(a.dtype, b.dtype)))


def _inv(a: Any) -> Any:
    return apply(np.linalg.inv, (a,), {}, lambda: (a.shape, a.dtype))


def _eye(n: int, dtype: Any) -> np.ndarray:
    return np.eye(n, dtype=dtype)


def _tri(n: int, dtype: Any, lower: bool, k: int = 0) -> np.ndarray:
    """The mask of a triangle, in the tangent's dtype so that scaling by it keeps float32 float32."""
    return (np.tril(np.ones((n, n)), -k) if lower else np.triu(np.ones((n, n)), k)).astype(dtype)


def _column(x: Any) -> Any:
    return x.reshape(x.shape + (1,))


# --- linear maps the derivatives are made of --------------------------------------------------------------


def _left(lin: Any, m: Any, dom: tuple[int, ...]) -> Any:
    return lin.linear(TABLE["matmul_left"], {"m": m, "shape": ()}, dom)


def _right(lin: Any, m: Any, dom: tuple[int, ...]) -> Any:
    return lin.linear(TABLE["matmul_right"], {"m": m, "shape": ()}, dom)


def _swap(lin: Any, dom: tuple[int, ...]) -> Any:
    """Transpose of the last two axes."""
    axes = tuple(range(len(dom) - 2)) + (len(dom) - 1, len(dom) - 2)
    return lin.linear(TABLE["transpose"], {"axes": axes}, dom)


def _sym(lin: Any, sign: float, dom: tuple[int, ...]) -> Any:
    return lin.linear(TABLE["sym"], {"sign": sign}, dom)


def _neg(lin: Any, dom: tuple[int, ...]) -> Any:
    return lin.linear(TABLE["neg"], {}, dom)


def _plus(lin: Any, maps: list[Any]) -> Any:
    """``t ↦ Σ fᵢ t``."""
    return lin.compose([lin.fork(maps), lin.jam(len(maps))])


def _diagonal(lin: Any, dom: tuple[int, ...], dtype: Any) -> Any:
    """``t ↦ diag(t)`` on a stack of square matrices: scale by the identity, sum a row."""
    return lin.compose([scaled(lin, _eye(dom[-1], dtype), dom),
                        lin.linear(TABLE["sum"], {"axis": -1, "keepdims": False}, dom)])


def _from_triangle(lin: Any, dom: tuple[int, ...], dtype: Any, lower: bool) -> Any:
    """``t ↦ tri(t) + stri(t)ᵀ``: the symmetric matrix a function reading one triangle sees."""
    n = dom[-1]
    return _plus(lin, [scaled(lin, _tri(n, dtype, lower), dom),
                       lin.compose([scaled(lin, _tri(n, dtype, lower, 1), dom), _swap(lin, dom)])])


def _sym_impl(t: Any, sign: float) -> Any:
    return t + sign * np.swapaxes(t, -1, -2)


register(Rule(
    "sym", 1, _sym_impl, lambda dom, sign: want_float("sym", dom), lambda dom, cod, **p: float(cod.size),
    transpose=lambda lin, dom, sign: _sym(lin, sign, dom), params={"sign": (1.0, float)}, public=False,
    doc="t ↦ t + sign·tᵀ on the last two axes (self-adjoint)",
))


# --- type rules and costs ---------------------------------------------------------------------------------


def _matrices(name: str, dom: Type, square: bool = True) -> Array:
    a = want_float(name, dom)
    if a.ndim < 2 or (square and a.shape[-1] != a.shape[-2]):
        what = "a square matrix" if square else "a matrix"
        raise TermTypeError(f"{name} expects {what} or a stack of them (the last two axes), got {a}")
    return a


def _batch(a: Array) -> int:
    return math.prod(a.shape[:-2])


def _flops(k: float) -> Any:
    """``k · n³`` per matrix of a stack (LAPACK's operation counts, roughly)."""
    def cost(dom: Type, cod: Type, **p: Any) -> float:
        a = dom[0] if isinstance(dom, tuple) else dom
        m, n = a.shape[-2:]
        return k * _batch(a) * m * n * min(m, n)
    return cost


def _square(name: str, cod: Any) -> Any:
    """A type rule for a function of one stack of square matrices; ``cod(a)`` gives the result."""
    return lambda dom, **p: cod(_matrices(name, dom), **p)


def _reduced(a: Array) -> Array:
    return Array(a.shape[:-2], a.dtype)


# --- inv, det, slogdet ------------------------------------------------------------------------------------


def _inv_deriv(lin: Any, x: Any, y: Any) -> Any:
    """``d(A⁻¹) = −A⁻¹ dA A⁻¹``."""
    return lin.compose([_left(lin, y, x.shape), _right(lin, y, x.shape), _neg(lin, x.shape)])


register(Rule(
    "inv", 1, np.linalg.inv, _square("inv", lambda a: a), _flops(2.0), deriv=_inv_deriv, blas=True,
    doc="matrix inverse",
))


def _log_det_map(lin: Any, x: Any, weight: Any = 1.0) -> Any:
    """``dA ↦ weight · tr(A⁻¹ dA) = Σ (weight · A⁻ᵀ) ⊙ dA``."""
    g = _mT(_inv(x)) * (weight if np.ndim(weight) == 0 else weight.reshape(weight.shape + (1, 1)))
    total = lin.linear(TABLE["sum"], {"axis": (-2, -1), "keepdims": False}, x.shape)
    return lin.compose([scaled(lin, g, x.shape), total])


register(Rule(
    "det", 1, np.linalg.det, _square("det", _reduced), _flops(2 / 3), deriv=lambda lin, x, y: _log_det_map(lin, x, y),
    blas=True, doc="determinant (d det A = det A · tr(A⁻¹ dA))",
))
register(Rule(
    "slogdet", 1, lambda x: tuple(np.linalg.slogdet(x)), _square("slogdet", lambda a: (_reduced(a), _reduced(a))),
    _flops(2 / 3), deriv=lambda lin, x, y: lin.fork([lin.zero(), _log_det_map(lin, x)]), blas=True,
    doc="(sign, log |det|) of a matrix; the sign has no derivative",
))


def _pinv_type(dom: Type, rcond: Any) -> Type:
    a = _matrices("pinv", dom, square=False)
    return Array(a.shape[:-2] + a.shape[:-3:-1], a.dtype)


def _pinv_deriv(lin: Any, x: Any, y: Any, rcond: Any) -> Any:
    """Golub & Pereyra: ``dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − A A⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺``."""
    m, n = x.shape[-2:]
    s, st = x.shape, x.shape[:-2] + (n, m)
    yt = _mT(y)
    return _plus(lin, [
        lin.compose([_left(lin, y, s), _right(lin, y, s[:-2] + (n, n)), _neg(lin, st)]),
        lin.compose([_swap(lin, s), _left(lin, _mm(y, yt), st), _right(lin, _eye(m, x.dtype) - _mm(x, y), st)]),
        lin.compose([_swap(lin, s), _left(lin, _eye(n, x.dtype) - _mm(y, x), st), _right(lin, _mm(yt, y), st)]),
    ])


def _p_rcond(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError("expected a number or None")
    return float(v)


register(Rule(
    "pinv", 1, lambda x, rcond: np.linalg.pinv(x) if rcond is None else np.linalg.pinv(x, rcond=rcond), _pinv_type,
    _flops(14.0), deriv=_pinv_deriv, params={"rcond": (None, _p_rcond)}, blas=True,
    doc="Moore–Penrose pseudo-inverse (singular values below rcond · the largest are dropped)",
))


# --- solves -----------------------------------------------------------------------------------------------


def _solve_shape(name: str, dom: Type) -> Array:
    """numpy 2's rule: ``b`` is a vector when it has one axis, else a stack of (M, K) matrices."""
    a, b = want_arrays(name, dom, 2)
    a, b = _matrices(name, a), want_float(name, b)
    m = a.shape[-1]
    if b.ndim == 1:
        if b.shape[0] != m:
            raise TermTypeError(f"{name}: {b} does not match the {m}×{m} matrices of {a}")
        return Array(a.shape[:-1], np.result_type(a.dtype, b.dtype))
    if b.shape[-2] != m:
        raise TermTypeError(f"{name}: the rows of {b} do not match the {m}×{m} matrices of {a}")
    try:
        batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise TermTypeError(f"{name}: batch dimensions of {a} and {b} do not broadcast") from None
    return Array(batch + b.shape[-2:], np.result_type(a.dtype, b.dtype))


def _solve_cost(dom: tuple[Array, Array], cod: Array, **p: Any) -> float:
    a, b = dom
    n = a.shape[-1]
    return _batch(a) * 2 / 3 * n ** 3 + 2.0 * cod.size * n


def _solve_maps(lin: Any, a: Any, b: Any, x: Any, inverse: Any, reads: Any) -> Any:
    """``x = M⁻¹ b`` for ``M = reads(A)``: ``dx = M⁻¹ (db − reads(dA) x)``; ``inverse`` is ``M⁻¹``."""
    vector = b.ndim == 1
    xc = _column(x) if vector else x
    inner = xc.shape
    da = [reads, _right(lin, xc, a.shape), _left(lin, inverse, inner), _neg(lin, inner)]
    if vector:
        da.append(lin.linear(TABLE["reshape"], {"shape": x.shape}, inner))
    return lin.join([lin.compose(da), _left(lin, inverse, b.shape)])


register(Rule(
    "solve", 2, np.linalg.solve, lambda dom: _solve_shape("solve", dom), _solve_cost,
    deriv=lambda lin, x, y: _solve_maps(lin, x[0], x[1], y, _inv(x[0]), lin.id()), blas=True,
    doc="x with a @ x = b (numpy 2: b is a vector only when it has one axis)",
))


def _p_trans(v: Any) -> int:
    codes = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1}  # real matrices: the conjugate transpose is the transpose
    if isinstance(v, bool) or v not in codes:
        raise ValueError("expected 0, 1, 2, 'N', 'T' or 'C'")
    return codes[v]


def _triangle(n: int, dtype: Any, lower: bool, unit_diagonal: bool) -> np.ndarray:
    return _tri(n, dtype, lower, 1 if unit_diagonal else 0)


def _solve_triangular(a: Any, b: Any, trans: int, lower: bool, unit_diagonal: bool) -> Any:
    return scipy.linalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _solve_triangular_deriv(lin: Any, x: tuple, y: Any, trans: int, lower: bool, unit_diagonal: bool) -> Any:
    a, b = x
    n = a.shape[-1]
    mask = _triangle(n, a.dtype, lower, unit_diagonal)
    effective = a * mask + _eye(n, a.dtype) if unit_diagonal else a * mask
    op = _mT(effective) if trans else effective
    reads = scaled(lin, mask, a.shape)
    if trans:
        reads = lin.compose([reads, _swap(lin, a.shape)])
    return _solve_maps(lin, a, b, y, _inv(op), reads)


register(Rule(
    "solve_triangular", 2, _solve_triangular, lambda dom, **p: _solve_shape("solve_triangular", dom),
    lambda dom, cod, **p: float(_batch(dom[0]) * cod.size * dom[0].shape[-1]), deriv=_solve_triangular_deriv,
    params={"trans": (0, _p_trans), "lower": (False, p_bool), "unit_diagonal": (False, p_bool)}, blas=True,
    doc="x with op(a) @ x = b for the triangle of a that lower names (scipy.linalg.solve_triangular)",
))


# --- cholesky, eigh, eigvalsh -----------------------------------------------------------------------------


def _cholesky_deriv(lin: Any, x: Any, y: Any, upper: bool) -> Any:
    """``dL = L Φ(L⁻¹ dA L⁻ᵀ)``, Φ the lower triangle with half its diagonal (for ``upper``, ``U = Lᵀ``)."""
    s, n = x.shape, x.shape[-1]
    low = _mT(y) if upper else y
    li = _inv(low)
    phi = _tri(n, x.dtype, True) - 0.5 * _eye(n, x.dtype)
    maps = [_from_triangle(lin, s, x.dtype, not upper), _left(lin, li, s), _right(lin, _mT(li), s),
            scaled(lin, phi, s), _left(lin, low, s)]
    return lin.compose(maps + ([_swap(lin, s)] if upper else []))


register(Rule(
    "cholesky", 1, lambda x, upper: np.linalg.cholesky(x, upper=upper), _square("cholesky", lambda a, upper: a),
    _flops(1 / 3), deriv=_cholesky_deriv, params={"upper": (False, p_bool)}, blas=True,
    doc="Cholesky factor L (L Lᵀ = a, from a's lower triangle) or, with upper, U (Uᵀ U = a, from the upper)",
))


def _p_uplo(v: Any) -> str:
    if v not in ("L", "U"):
        raise ValueError("expected 'L' or 'U'")
    return v


def _spectral(lin: Any, x: Any, v: Any, UPLO: str) -> Any:
    """``dA ↦ vᵀ S v`` with ``S`` the symmetric tangent read from the UPLO triangle."""
    return lin.compose([_from_triangle(lin, x.shape, x.dtype, UPLO == "L"), _left(lin, _mT(v), x.shape),
                        _right(lin, v, x.shape)])


def _eigh_deriv(lin: Any, x: Any, y: tuple, UPLO: str) -> Any:
    """``dw = diag(vᵀ dA v)``, ``dv = v (F ⊙ vᵀ dA v)`` with ``F_ij = 1/(w_j − w_i)`` off the diagonal (as
    JAX: ``inf`` where eigenvalues repeat)."""
    w, v = y
    s, n = x.shape, x.shape[-1]
    eye = _eye(n, x.dtype)
    f = 1 / (eye + w.reshape(w.shape[:-1] + (1, n)) - w.reshape(w.shape + (1,))) - eye
    return lin.compose([_spectral(lin, x, v, UPLO),
                        lin.fork([_diagonal(lin, s, x.dtype), lin.compose([scaled(lin, f, s), _left(lin, v, s)])])])


def _eigh_type(a: Array, UPLO: str) -> tuple[Array, Array]:
    return Array(a.shape[:-1], a.dtype), a


register(Rule(
    "eigh", 1, lambda x, UPLO: tuple(np.linalg.eigh(x, UPLO=UPLO)), _square("eigh", _eigh_type), _flops(9.0),
    deriv=_eigh_deriv, params={"UPLO": ("L", _p_uplo)}, blas=True,
    doc="eigenvalues (ascending) and eigenvectors of a symmetric matrix, from its UPLO triangle",
))


def _eigvalsh_deriv(lin: Any, x: Any, y: Any, UPLO: str) -> Any:
    v = apply(np.linalg.eigh, (x,), {"UPLO": UPLO}, lambda: [(y.shape, y.dtype), (x.shape, x.dtype)])[1]
    return lin.compose([_spectral(lin, x, v, UPLO), _diagonal(lin, x.shape, x.dtype)])


register(Rule(
    "eigvalsh", 1, lambda x, UPLO: np.linalg.eigvalsh(x, UPLO=UPLO),
    _square("eigvalsh", lambda a, UPLO: _eigh_type(a, UPLO)[0]), _flops(4 / 3), deriv=_eigvalsh_deriv,
    params={"UPLO": ("L", _p_uplo)}, blas=True,
    doc="eigenvalues (ascending) of a symmetric matrix, from its UPLO triangle",
))


# --- svd, qr ----------------------------------------------------------------------------------------------


def _svd_type(dom: Type, full_matrices: bool, compute_uv: bool) -> Type:
    a = _matrices("svd", dom, square=False)
    m, n = a.shape[-2:]
    k, batch = min(m, n), a.shape[:-2]
    s = Array(batch + (k,), a.dtype)
    if not compute_uv:
        return s
    cu, rv = (m, n) if full_matrices else (k, k)
    return Array(batch + (m, cu), a.dtype), s, Array(batch + (rv, n), a.dtype)


def _svd(x: Any, full_matrices: bool, compute_uv: bool) -> Any:
    if compute_uv:
        return tuple(np.linalg.svd(x, full_matrices=full_matrices))
    return np.linalg.svd(x, compute_uv=False)


def _svd_deriv(lin: Any, x: Any, y: Any, full_matrices: bool, compute_uv: bool) -> Any:
    """JAX's rule (real case): with ``dS = Uᵀ dA V``, ``ds = diag dS``, ``dU = U (F ⊙ (dS s + (dS s)ᵀ))``,
    ``dV = V (F ⊙ (s dS + (s dS)ᵀ))``, ``F_ij = 1/(s_j² − s_i²)`` (0 where that is 0), plus the parts
    outside the span of U (tall) or V (wide)."""
    m, n = x.shape[-2:]
    k, s = min(m, n), x.shape
    if compute_uv and full_matrices and m != n:
        raise TermTypeError(f"svd: the derivative with full_matrices=True of a non-square {x.shape} matrix is not "
                            "unique (its extra singular vectors are arbitrary); use full_matrices=False")
    if compute_uv:
        u, sv, vh = y
    else:
        u, sv, vh = apply(_svd, (x, False, True), {}, lambda: [(s[:-1] + (k,), x.dtype), (y.shape, y.dtype),
                                                                 (s[:-2] + (k, n), x.dtype)])
    v, ks = _mT(vh), s[:-2] + (k, k)
    ds = lin.compose([_left(lin, _mT(u), s), _right(lin, v, s[:-2] + (k, n))])
    diag = _diagonal(lin, ks, x.dtype)
    if not compute_uv:
        return lin.compose([ds, diag])
    row, col = sv.reshape(sv.shape[:-1] + (1, k)), sv.reshape(sv.shape + (1,))
    diffs = (row + col) * (row - col)
    zero = (diffs == 0).astype(x.dtype)
    f = 1 / (diffs + zero) - zero
    inv_row = 1 / (row + (row == 0).astype(x.dtype)) - (row == 0).astype(x.dtype)
    du = lin.compose([scaled(lin, row, ks), _sym(lin, 1.0, ks), scaled(lin, f, ks), _left(lin, u, ks)])
    dvh = lin.compose([scaled(lin, col, ks), _sym(lin, 1.0, ks), scaled(lin, f, ks), _left(lin, v, ks),
                       _swap(lin, s[:-2] + (n, k))])
    extra_u, extra_v = lin.zero(), lin.zero()
    if m > n:
        extra_u = lin.compose([_right(lin, v, s), _left(lin, _eye(m, x.dtype) - _mm(u, _mT(u)), s[:-2] + (m, k)),
                               scaled(lin, inv_row, s[:-2] + (m, k))])
    if n > m:
        st = s[:-2] + (n, m)
        extra_v = lin.compose([_swap(lin, s), _right(lin, u, st), _left(lin, _eye(n, x.dtype) - _mm(v, vh), st),
                               scaled(lin, inv_row, st), _swap(lin, st)])
    return lin.compose([lin.fork([ds, lin.id()]), lin.fork([lin.join([du, extra_u]), lin.join([diag, lin.zero()]),
                                                             lin.join([dvh, extra_v])])])


register(Rule(
    "svd", 1, _svd, _svd_type, _flops(14.0), deriv=_svd_deriv,
    params={"full_matrices": (True, p_bool), "compute_uv": (True, p_bool)}, blas=True,
    doc="singular value decomposition (U, s, Vh), s descending; s alone without compute_uv",
))


def _qr_type(dom: Type) -> Type:
    a = _matrices("qr", dom, square=False)
    m, n = a.shape[-2:]
    k = min(m, n)
    return Array(a.shape[:-2] + (m, k), a.dtype), Array(a.shape[:-2] + (k, n), a.dtype)


def _qr_deriv(lin: Any, x: Any, y: tuple) -> Any:
    """JAX's rule for ``m ≥ n``: with ``X = dA R⁻¹``, ``Y = Qᵀ X`` and ``Ω = tril(Y, −1) − tril(Y, −1)ᵀ``,
    ``dQ = Q (Ω − Y) + X`` and ``dR = (Y − Ω) R``."""
    q, r = y
    m, n = x.shape[-2:]
    if m < n:
        raise TermTypeError(f"qr: the derivative of a wide {x.shape} matrix is not implemented (as in JAX); "
                            "differentiate the qr of its transpose")
    s, ks = x.shape, r.shape
    omega_minus_y = _plus(lin, [lin.compose([scaled(lin, _tri(n, x.dtype, True, 1), ks), _sym(lin, -1.0, ks)]),
                                _neg(lin, ks)])
    return lin.compose([
        _right(lin, _inv(r), s),
        lin.fork([lin.id(), _left(lin, _mT(q), s)]),
        lin.fork([lin.join([lin.id(), lin.compose([omega_minus_y, _left(lin, q, ks)])]),
                  lin.join([lin.zero(), lin.compose([omega_minus_y, _neg(lin, ks), _right(lin, r, ks)])])]),
    ])


register(Rule(
    "qr", 1, lambda x: tuple(np.linalg.qr(x)), _qr_type, _flops(4.0), deriv=_qr_deriv, blas=True,
    doc="reduced QR decomposition (Q, R) of a matrix",
))


# --- sqrtm, solve_sylvester -------------------------------------------------------------------------------


def _sylvester_map(lin: Any, a: Any, b: Any, dom: tuple[int, ...]) -> Any:
    """``Y ↦ X`` with ``A X + X B = Y``."""
    return lin.linear(TABLE["sylvester"], {"a": a, "b": b, "trans": False}, dom)


def _sylvester(y: Any, a: Any, b: Any, trans: bool) -> Any:
    if trans:
        a, b = np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)
    return applied("solve_sylvester", (a, b, y))


def _solve_sylvester(x: tuple) -> Any:
    a, b, q = x
    return scipy.linalg.solve_sylvester(a, b, q).astype(np.result_type(a, b, q), copy=False)


register(Rule(
    "sylvester", 1, _sylvester, lambda dom, a, b, trans: Array(dom.shape, np.result_type(dom.dtype, a.dtype, b.dtype)),
    lambda dom, cod, **p: 0.0, params={"a": (None, lambda v: v), "b": (None, lambda v: v), "trans": (False, p_bool)},
    public=False,
    # A X + X B = Y is L X = Y with L X = A X + X B; L⁻¹'s transpose is (Lᵀ)⁻¹, and Lᵀ Z = Aᵀ Z + Z Bᵀ
    transpose=lambda lin, dom, a, b, trans: lin.linear(TABLE["sylvester"], {"a": a, "b": b, "trans": not trans}, dom),
    doc="Y ↦ X with A X + X B = Y (Aᵀ, Bᵀ with trans): the solve in sqrtm's and solve_sylvester's derivatives",
))


def _sylvester_type(dom: Type) -> Type:
    a, b, q = want_arrays("solve_sylvester", dom, 3)
    a, b, q = _matrices("solve_sylvester", a), _matrices("solve_sylvester", b), _matrices("solve_sylvester", q, False)
    if q.shape[-2:] != (a.shape[-1], b.shape[-1]):
        raise TermTypeError(f"solve_sylvester: q must be {a.shape[-1]}×{b.shape[-1]} for a {a} and b {b}, got {q}")
    if not a.shape[:-2] == b.shape[:-2] == q.shape[:-2]:
        raise TermTypeError(f"solve_sylvester: a {a}, b {b} and q {q} must have the same batch dimensions "
                            "(broadcast_to them first)")
    return Array(q.shape, np.result_type(a.dtype, b.dtype, q.dtype))


def _sylvester_cost(dom: Type, cod: Array) -> float:
    """A Schur decomposition of a and of b (about 10 n³ each), then the triangular solve and back-transform."""
    m, n = cod.shape[-2:]
    return _batch(cod) * (10.0 * (m ** 3 + n ** 3) + 4.0 * m * n * (m + n))


def _solve_sylvester_deriv(lin: Any, x: tuple, y: Any) -> Any:
    """``A dX + dX B = dQ − dA X − X dB``: one more Sylvester solve with the same ``A`` and ``B``."""
    a, b, q = x
    rhs = lin.join([_right(lin, y, a.shape), _left(lin, y, b.shape), _neg(lin, q.shape)])
    return lin.compose([rhs, _neg(lin, q.shape), _sylvester_map(lin, a, b, q.shape)])


register(Rule(
    "solve_sylvester", 0, _solve_sylvester, _sylvester_type, _sylvester_cost,
    deriv=_solve_sylvester_deriv, blas=True, doc="X with a X + X b = q (scipy.linalg.solve_sylvester)",
))


def _sqrtm(x: Any) -> Any:
    y = scipy.linalg.sqrtm(x)
    if np.iscomplexobj(y):
        raise EvaluationError("sqrtm: the matrix has a negative real eigenvalue, so its square root is complex (scipy "
                              "returns a complex array); catterms computes real square roots only")
    return y.astype(x.dtype, copy=False)


register(Rule(
    "sqrtm", 1, _sqrtm, _square("sqrtm", lambda a: a), _flops(15.0),
    deriv=lambda lin, x, y: _sylvester_map(lin, y, y, x.shape), blas=True,
    doc="principal square root X of a matrix (X X = a; dX solves X dX + dX X = da)",
))
