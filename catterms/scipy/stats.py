"""``catterms.scipy.stats``: scipy.stats' distributions on traced arrays (``norm.logpdf(x, loc, scale)``, …).

Each method is a formula over :mod:`catterms.numpy` and :mod:`catterms.scipy.special` — scipy's own
formula, so values agree with scipy's to rounding — with scipy's signatures: shape parameters, then
``loc`` and ``scale``, positionally or by name, all broadcasting. Results are float64, as scipy's are,
and outside a distribution's support densities are 0 (log-densities −inf) and distribution functions 0 or
1, as scipy gives. scipy's argument checks (``scale > 0``, ``x`` on the simplex) need values and are not
made: out of the domain, results are NaN or meaningless.

Derivatives are the formulas', so they exist in every argument that the formula is smooth in. Where scipy's
value comes from a function without a derivative in some argument, that argument must be a constant, as in
autograd: the shape parameters of the distribution functions (``t.cdf``'s ``df``, ``gamma.cdf``'s ``a``,
``chi2.cdf``'s ``df``, ``beta.cdf``'s ``a`` and ``b``, ``poisson.cdf``'s ``k``), ``poisson``'s ``k`` when it
is a traced float array (a traced integer array has no tangent and is fine), and ``multivariate_normal``'s
``cov`` with ``allow_singular=True``. A constant ``cov`` is factored once at trace time, as scipy does
(eigenvalues, so singular ones work); a traced one by Cholesky.
"""

from __future__ import annotations

import math
import types
from typing import Any, NamedTuple

import numpy as np

from .. import numpy as cnp
from ..errors import TraceError
from ..frontend.tracer import constant_value
from ..numpy._wrap import Tracer, apply, dtype_of, operand_type
from ..numpy.linalg import cholesky
from . import special as sp
from .linalg import solve_triangular

__all__ = ["beta", "chi2", "dirichlet", "gamma", "multivariate_normal", "norm", "poisson", "t"]

_LOG_2PI = math.log(2 * math.pi)


def _float64(x: Any) -> Any:
    """``x`` in float64, scipy.stats' dtype (Python numbers stay weak)."""
    if isinstance(x, (int, float)) and not isinstance(x, Tracer):
        return float(x)
    return x if dtype_of(x) == np.float64 else apply("astype", (x,), dtype="float64")


def _constant(what: str, arg: str, v: Any, wrt: str) -> Any:
    return sp.constant_arg(f"catterms.scipy.stats.{what}", arg, v, wrt)


class _Distribution(types.ModuleType):
    """A namespace of methods, as scipy's distribution objects are (a module, so that what lists
    catterms.scipy's names walks into it: ``scipy.stats.norm.logpdf``)."""

    methods: tuple[str, ...] = ()

    def __init__(self, name: str, doc: str) -> None:
        super().__init__(f"catterms.scipy.stats.{name}", doc)
        self.name = name
        self.__all__ = list(self.methods)


class _Continuous(_Distribution):
    """A location-scale family: ``f(x; shapes, loc, scale) = f((x − loc)/scale; shapes)/scale``. Subclasses
    give ``_logpdf(z, *shapes)``, ``_cdf(z, *shapes)`` (``what`` names the method, for errors) and the
    support ``[lo, hi]`` of ``z``."""

    shapes: tuple[str, ...] = ()
    lo, hi = -math.inf, math.inf
    methods: tuple[str, ...] = ("cdf", "logpdf", "pdf")

    def _args(self, what: str, args: tuple, kwds: dict) -> tuple[list, Any, Any]:
        names = (*self.shapes, "loc", "scale")
        if len(args) > len(names):
            raise TraceError(f"catterms.scipy.stats.{self.name}.{what} takes at most {len(names)} parameters "
                             f"({', '.join(names)}), got {len(args)}")
        bound = dict(zip(names, args))
        for k, v in kwds.items():
            if k not in names or k in bound:
                raise TraceError(f"catterms.scipy.stats.{self.name}.{what}: unexpected or repeated argument {k!r}; "
                                 f"its parameters are {', '.join(names)}")
            bound[k] = v
        missing = [s for s in self.shapes if s not in bound]
        if missing:
            raise TraceError(f"catterms.scipy.stats.{self.name}.{what} needs the shape parameter {missing[0]}")
        return [bound[s] for s in self.shapes], bound.get("loc", 0.0), bound.get("scale", 1.0)

    def _standard(self, x: Any, what: str, args: tuple, kwds: dict) -> tuple[Any, list, Any]:
        shapes, loc, scale = self._args(what, args, kwds)
        scale = _float64(scale)
        return (_float64(x) - _float64(loc)) / scale, shapes, scale

    def _inside(self, z: Any) -> Any:
        return (z >= self.lo) & (z <= self.hi)

    def _log_density(self, what: str, x: Any, args: tuple, kwds: dict) -> Any:
        z, shapes, scale = self._standard(x, what, args, kwds)
        value = self._logpdf(z, *(_float64(s) for s in shapes)) - cnp.log(scale)
        if self.lo == -math.inf and self.hi == math.inf:
            return value
        return cnp.where(self._inside(z), value, -math.inf)

    def logpdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return self._log_density("logpdf", x, args, kwds)

    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return cnp.exp(self._log_density("pdf", x, args, kwds))

    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        z, shapes, _ = self._standard(x, "cdf", args, kwds)
        return self._cdf(cnp.clip(z, self.lo, self.hi) if self.lo > -math.inf else z, *shapes)


class _Norm(_Continuous):
    methods = ("cdf", "logcdf", "logpdf", "logsf", "pdf", "sf")

    def _logpdf(self, z: Any) -> Any:
        return -0.5 * (z * z) - 0.5 * _LOG_2PI

    def _cdf(self, z: Any) -> Any:
        return sp.ndtr(z)

    def sf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        return self.cdf(-_float64(x), -_float64(loc), scale)

    def logcdf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        return sp.log_ndtr((_float64(x) - _float64(loc)) / _float64(scale))

    def logsf(self, x: Any, loc: Any = 0.0, scale: Any = 1.0) -> Any:
        return self.logcdf(-_float64(x), -_float64(loc), scale)


class _T(_Continuous):
    shapes = ("df",)
    methods = ("cdf", "logcdf", "logpdf", "pdf")

    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        return cnp.log(self.cdf(x, *args, **kwds))  # as scipy: t has no logcdf of its own

    def _logpdf(self, z: Any, df: Any) -> Any:
        half = (df + 1) / 2
        return (sp.gammaln(half) - sp.gammaln(df / 2) - 0.5 * cnp.log(df * math.pi)
                - half * cnp.log1p(z * z / df))

    def _cdf(self, z: Any, df: Any) -> Any:
        return sp.stdtr(_constant("t.cdf", "df", df, "x, loc and scale"), z)


class _Chi2(_Continuous):
    shapes = ("df",)
    lo = 0.0

    def _logpdf(self, z: Any, df: Any) -> Any:
        return sp.xlogy(df / 2 - 1, z) - z / 2 - sp.gammaln(df / 2) - (math.log(2) / 2) * df

    def _cdf(self, z: Any, df: Any) -> Any:
        df = _constant("chi2.cdf", "df", df, "x, loc and scale")
        return sp.gammainc(np.divide(df, 2), z / 2)


class _Gamma(_Continuous):
    shapes = ("a",)
    lo = 0.0

    def _logpdf(self, z: Any, a: Any) -> Any:
        return sp.xlogy(a - 1, z) - z - sp.gammaln(a)

    def _cdf(self, z: Any, a: Any) -> Any:
        return sp.gammainc(_constant("gamma.cdf", "a", a, "x, loc and scale"), z)


class _Beta(_Continuous):
    shapes = ("a", "b")
    lo, hi = 0.0, 1.0

    def _logpdf(self, z: Any, a: Any, b: Any) -> Any:
        return sp.xlog1py(b - 1, -z) + sp.xlogy(a - 1, z) - sp.betaln(a, b)

    def _cdf(self, z: Any, a: Any, b: Any) -> Any:
        wrt = "x, loc and scale"
        return sp.betainc(_constant("beta.cdf", "a", a, wrt), _constant("beta.cdf", "b", b, wrt), z)


class _Poisson(_Distribution):
    methods = ("cdf", "logpmf", "pmf")

    def _k(self, what: str, k: Any, loc: Any) -> Any:
        if isinstance(k, Tracer) and k.node.kind != "const" and k.dtype.kind == "f":
            raise TraceError(f"catterms.scipy.stats.poisson.{what} is differentiable in mu only; pass k as a "
                             "constant or as an integer array")
        return k - loc

    def logpmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        return self._log_mass("logpmf", k, mu, loc)

    def pmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        return cnp.exp(self._log_mass("pmf", k, mu, loc))

    def _log_mass(self, what: str, k: Any, mu: Any, loc: Any) -> Any:
        k = self._k(what, k, loc)
        mu = _float64(mu)
        value = sp.xlogy(k, mu) - sp.gammaln(_float64(k) + 1) - mu
        whole = k >= 0
        if dtype_of(k).kind == "f":
            whole = whole & (k == cnp.floor(k))  # scipy: no mass off the integers
        return cnp.where(whole, value, -math.inf)

    def cdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        k = np.floor(np.subtract(_constant("poisson.cdf", "k", k, "mu"), _constant("poisson.cdf", "loc", loc, "mu")))
        inside = k >= 0  # below the support the sum is empty: 0
        return sp.gammaincc(np.where(inside, k + 1, 1.0), _float64(mu)) * inside.astype(np.float64)


def _squeeze(out: Any) -> Any:
    """scipy's ``_squeeze_output``: every axis of length 1 dropped."""
    return cnp.squeeze(out)


class _MultivariateNormal(_Distribution):
    methods = ("entropy", "logpdf", "pdf")

    def _params(self, what: str, mean: Any, cov: Any, allow_singular: bool) -> tuple[int, Any, Any]:
        """scipy's ``_process_parameters``: the dimension, the mean vector and the covariance matrix."""
        if mean is None:
            dim = 1 if operand_type(cov).ndim < 2 else operand_type(cov).shape[0]
            mean = np.zeros(dim)
        else:
            dim = operand_type(mean).size
        mean, cov = cnp.reshape(_float64(mean), (dim,)), _float64(cov)
        c = operand_type(cov)
        if c.ndim == 0 or dim == 1:
            cov = cnp.reshape(cov, ()) * np.eye(dim)
        elif c.ndim == 1:
            cov = cnp.diag(cov)
        if operand_type(cov).shape != (dim, dim):
            raise TraceError(f"catterms.scipy.stats.multivariate_normal.{what}: cov of shape {c.shape} does not fit a "
                             f"mean of dimension {dim}")
        if allow_singular and _traced(cov):
            raise TraceError(f"catterms.scipy.stats.multivariate_normal.{what} with allow_singular=True is "
                             "differentiable in x and mean only; pass cov as a constant, or allow_singular=False")
        return dim, mean, cov

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        dim, mean, cov = self._params("logpdf", mean, cov, allow_singular)
        x = _float64(x)
        shape = operand_type(x).shape
        if len(shape) == 0:
            x = cnp.reshape(x, (1,))
        elif len(shape) == 1:
            x = cnp.reshape(x, (-1, 1) if dim == 1 else (1, -1))
        dev = x - mean
        if _traced(cov):
            factor = cholesky(cov)
            flat = cnp.reshape(dev, (-1, dim))
            solved = solve_triangular(factor, cnp.transpose(flat), lower=True)
            maha = cnp.reshape(cnp.sum(solved * solved, axis=0), operand_type(dev).shape[:-1])
            rank, log_det = dim, 2 * cnp.sum(cnp.log(cnp.diagonal(factor)))
        else:
            psd = _psd(_value(cov), allow_singular)
            rank, log_det = psd.rank, psd.log_pdet
            projected = cnp.matmul(dev, psd.root)
            maha = cnp.sum(projected * projected, axis=-1)
            if rank < dim:  # scipy: no density off the support, the range of cov
                off = cnp.matmul(dev, psd.null)
                out = -0.5 * (rank * _LOG_2PI + log_det + maha)
                return _squeeze(cnp.where(cnp.sum(off * off, axis=-1) < psd.tol ** 2, out, -math.inf))
        return _squeeze(-0.5 * (rank * _LOG_2PI + log_det + maha))

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        return cnp.exp(self.logpdf(x, mean, cov, allow_singular))

    def entropy(self, mean: Any = None, cov: Any = 1) -> Any:
        """``(rank·(log 2π + 1) + log pdet cov)/2``; scipy takes the pseudo-determinant here, as we do for a
        constant ``cov``."""
        dim, _, cov = self._params("entropy", mean, cov, False)
        if _traced(cov):
            # log det through the Cholesky factor: like scipy's eigh, it reads cov's lower triangle only
            logdet = 2.0 * cnp.sum(cnp.log(cnp.diagonal(cnp.linalg.cholesky(cov), 0, -2, -1)), axis=-1)
            return 0.5 * (dim * (_LOG_2PI + 1) + logdet)
        psd = _psd(_value(cov), True)
        return np.float64(0.5 * (psd.rank * (_LOG_2PI + 1) + psd.log_pdet))


def _traced(x: Any) -> bool:
    return constant_value(x) is None


def _value(c: Any) -> np.ndarray:
    """A constant's array (a constant of the trace read back)."""
    return np.asarray(constant_value(c))


class _PSD(NamedTuple):
    root: np.ndarray  # U with U Uᵀ = cov⁺
    log_pdet: float
    rank: int
    null: np.ndarray  # a basis of cov's null space: off the support, x − mean has a part in it
    tol: float  # how large that part may be, as scipy allows


def _psd(cov: np.ndarray, allow_singular: bool) -> _PSD:
    """scipy's ``_PSD`` of a constant covariance, from its eigenvalues (those below scipy's tolerance count
    as zero)."""
    s, u = np.linalg.eigh(cov)
    eps = 1e6 * np.finfo(np.float64).eps * np.max(np.abs(s))
    if np.min(s) < -eps:
        raise TraceError("catterms.scipy.stats.multivariate_normal: cov must be positive semidefinite")
    kept = s > eps
    if not allow_singular and not np.all(kept):
        raise TraceError("catterms.scipy.stats.multivariate_normal: cov is singular; pass allow_singular=True")
    return _PSD(u[:, kept] / np.sqrt(s[kept]), float(np.sum(np.log(s[kept]))), int(np.sum(kept)), u[:, ~kept],
                1e3 * eps)


class _Dirichlet(_Distribution):
    methods = ("logpdf", "pdf")

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """``Σᵢ (αᵢ − 1)·log xᵢ − log B(α)`` over the first axis of ``x`` (scipy's layout: components first;
        with one component fewer than ``alpha``, the last is ``1 − Σ x``)."""
        alpha, x = _float64(alpha), _float64(x)
        k = operand_type(alpha).shape
        if len(k) != 1:
            raise TraceError(f"catterms.scipy.stats.dirichlet: alpha must be a vector, got shape {k}")
        shape = operand_type(x).shape
        if shape and shape[0] + 1 == k[0]:
            x = cnp.concatenate([x, 1 - cnp.sum(x, axis=0, keepdims=True)], axis=0)
        elif not shape or shape[0] != k[0]:
            raise TraceError(f"catterms.scipy.stats.dirichlet: x of shape {shape} does not have alpha's {k[0]} "
                             "components along its first axis")
        ndim = operand_type(x).ndim
        log_beta = cnp.sum(sp.gammaln(alpha)) - sp.gammaln(cnp.sum(alpha))
        terms = sp.xlogy(cnp.reshape(alpha, k + (1,) * (ndim - 1)) - 1, x)
        return _squeeze(cnp.sum(terms, axis=0) - log_beta)

    def pdf(self, x: Any, alpha: Any) -> Any:
        return cnp.exp(self.logpdf(x, alpha))


norm = _Norm("norm", "the normal distribution (loc, scale)")
t = _T("t", "Student's t distribution (df, loc, scale)")
chi2 = _Chi2("chi2", "the χ² distribution (df, loc, scale)")
gamma = _Gamma("gamma", "the gamma distribution (a, loc, scale)")
beta = _Beta("beta", "the beta distribution (a, b, loc, scale)")
poisson = _Poisson("poisson", "the Poisson distribution (mu, loc)")
multivariate_normal = _MultivariateNormal("multivariate_normal", "the multivariate normal distribution (mean, cov)")
dirichlet = _Dirichlet("dirichlet", "the Dirichlet distribution (alpha)")
