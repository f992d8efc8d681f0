"""Cases for ``catterms.scipy.stats`` against scipy.stats itself: each distribution's methods, with traced
parameters where the method differentiates them and constants where it must have them."""

from __future__ import annotations

import numpy as np

from numpy_cases import Case
from numpy_cases.math import one
from prim_cases.gen import fixed, ints, normal, pair, positive, spd, triple, uniform

_RANGE = np.array([[2.0, 1.0], [1.0, 2.0], [0.0, 1.0]])  # the range of a rank-2 covariance
_SINGULAR = _RANGE @ _RANGE.T
_IN_RANGE = (_RANGE @ np.array([[0.3, -0.5, 1.2, 0.1], [0.4, 0.2, -0.7, 0.9]])).T

_N, _P, _U = normal(4), positive(4), uniform(0.1, 0.9, 4)

CASES = [
    Case("scipy.stats.norm.pdf", triple(_N, normal(1), positive(1))),
    Case("scipy.stats.norm.logpdf", triple(normal(2, 3), normal(3), positive(2, 1))),
    Case("scipy.stats.norm.logpdf", pair(_N, normal(4)), id="norm.logpdf-loc"),
    Case("scipy.stats.norm.cdf", triple(_N, normal(4), _P)),
    Case("scipy.stats.norm.sf", triple(_N, normal(4), _P)),
    Case("scipy.stats.norm.logcdf", triple(_N, normal(4), _P)),
    Case("scipy.stats.norm.logsf", triple(_N, normal(4), _P)),
    Case("scipy.stats.t.pdf", triple(_N, uniform(1.5, 6.0, 4), normal(4)), kwargs={"scale": 1.5}),
    Case("scipy.stats.t.logpdf", triple(_N, uniform(1.5, 6.0, 4), normal(4))),
    Case("scipy.stats.t.cdf", pair(_N, normal(4)), call=lambda f, x, loc: f(x, 4.5, loc, 2.0), id="t.cdf"),
    Case("scipy.stats.t.logcdf", pair(_N, _P), call=lambda f, x, s: f(x, np.array([1.5, 3.0, 4.0, 8.0]), scale=s),
         id="t.logcdf"),
    Case("scipy.stats.chi2.pdf", pair(_P, uniform(1.0, 5.0, 4))),
    Case("scipy.stats.chi2.logpdf", pair(_P, uniform(1.0, 5.0, 4))),
    Case("scipy.stats.chi2.logpdf", one(fixed(np.array([-1.0, 0.5, 2.0]))), args=(3.0,), derivatives=False,
         id="chi2.logpdf-outside"),
    Case("scipy.stats.chi2.cdf", one(_P), args=(3.0,), id="chi2.cdf"),
    Case("scipy.stats.beta.pdf", triple(_U, positive(4), positive(4))),
    Case("scipy.stats.beta.logpdf", triple(_U, positive(4), positive(1))),
    Case("scipy.stats.beta.cdf", one(_U), args=(2.0, 3.5), id="beta.cdf"),
    Case("scipy.stats.gamma.pdf", pair(_P, positive(4))),
    Case("scipy.stats.gamma.logpdf", triple(_P, positive(4), uniform(-0.4, 0.0, 4))),
    Case("scipy.stats.gamma.cdf", pair(_P, positive(1)), call=lambda f, x, s: f(x, np.array([0.5, 1.0, 2.0, 3.0]), scale=s),
         id="gamma.cdf"),
    Case("scipy.stats.poisson.pmf", pair(ints(0, 6, 4), _P)),
    Case("scipy.stats.poisson.logpmf", one(_P), call=lambda f, mu: f(np.array([0.0, 2.0, 3.0, 1.0]), mu),
         id="poisson.logpmf-float-k"),
    Case("scipy.stats.poisson.logpmf", one(_P), call=lambda f, mu: f(np.array([0.0, 2.0, 2.5, -1.0]), mu),
         derivatives=False, id="poisson.logpmf-off-support"),  # −inf there: differences are NaN
    Case("scipy.stats.poisson.logpmf", pair(ints(0, 6, 4), _P)),
    Case("scipy.stats.poisson.cdf", one(_P), call=lambda f, mu: f(np.array([-1, 0, 2, 5]), mu), id="poisson.cdf"),
    Case("scipy.stats.multivariate_normal.logpdf", triple(normal(5, 3), normal(3), spd(3))),
    Case("scipy.stats.multivariate_normal.logpdf", pair(normal(3), normal(3)), kwargs={"cov": np.diag([1.0, 2.0, 0.5])},
         id="mvn.logpdf-constant-cov"),
    Case("scipy.stats.multivariate_normal.logpdf", one(fixed(_IN_RANGE)), kwargs={"cov": _SINGULAR, "allow_singular": True},
         rtol=1e-8, id="mvn.logpdf-singular"),
    Case("scipy.stats.multivariate_normal.logpdf", one(normal(4, 3)), kwargs={"cov": _SINGULAR, "allow_singular": True},
         derivatives=False, id="mvn.logpdf-singular-off-support"),
    Case("scipy.stats.multivariate_normal.pdf", pair(normal(2, 2), spd(2)), call=lambda f, x, c: f(x, cov=c),
         id="mvn.pdf"),
    Case("scipy.stats.multivariate_normal.entropy", one(spd(3)), call=lambda f, c: f(cov=c), id="mvn.entropy"),
    Case("scipy.stats.dirichlet.logpdf", pair(fixed(np.array([0.2, 0.3, 0.5])), positive(3))),
    Case("scipy.stats.dirichlet.logpdf", pair(fixed(np.array([[0.2, 0.6], [0.3, 0.1]])), positive(3)),
         id="dirichlet.logpdf-implied-last"),
    Case("scipy.stats.dirichlet.pdf", pair(fixed(np.array([0.2, 0.3, 0.5])), positive(3))),
]
