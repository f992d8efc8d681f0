"""Cases for ``catterms.scipy.special`` against scipy.special itself."""

from __future__ import annotations

import numpy as np

from numpy_cases import Case
from numpy_cases.math import one, single
from prim_cases.gen import fixed, ints, normal, pair, positive, uniform

CASES = [
    Case("scipy.special.erf", one(normal(4))),
    Case("scipy.special.erf", one(ints(-2, 2, 3))),
    Case("scipy.special.erf", single(one(normal(4))), derivatives=False, rtol=1e-6),
    Case("scipy.special.erfc", one(normal(4))),
    Case("scipy.special.erfinv", one(uniform(-0.9, 0.9, 4))),
    Case("scipy.special.gammaln", one(positive(4))),
    Case("scipy.special.digamma", one(positive(4))),
    Case("scipy.special.psi", one(uniform(0.5, 3.0, 4))),
    Case("scipy.special.expit", one(normal(4))),
    Case("scipy.special.logit", one(uniform(0.05, 0.95, 4))),
    Case("scipy.special.xlogy", pair(normal(3), positive(3))),
    Case("scipy.special.xlog1py", pair(normal(3), positive(2, 3))),
    Case("scipy.special.logsumexp", one(normal(3, 4))),
    Case("scipy.special.logsumexp", one(normal(3, 4)), kwargs={"axis": 1, "keepdims": True}),
    Case("scipy.special.logsumexp", one(normal(3, 4)), kwargs={"axis": 0, "b": np.array([[1.0], [2.0], [0.5]])}),
    Case("scipy.special.logsumexp", one(normal(3, 2)), kwargs={"axis": 0, "b": np.array([[2.0], [-0.1], [1.0]])}),
    Case("scipy.special.polygamma", one(positive(4)), call=lambda f, x: f(2, x), id="polygamma-2"),
    Case("scipy.special.polygamma", one(positive(3)), call=lambda f, x: f(0, x), id="polygamma-0"),
    Case("scipy.special.logsumexp", pair(normal(3, 2), positive(3, 2)), call=lambda f, a, b: f(a, axis=0, b=b),
         id="logsumexp-traced-b"),
]

_ORDERS = np.array([0.5, 1.0, 2.5])  # broadcast along x's last axis, as scipy's arguments do

CASES += [
    Case("scipy.special.j0", one(normal(4))),
    Case("scipy.special.j1", one(normal(4))),
    Case("scipy.special.y0", one(positive(4))),
    Case("scipy.special.y1", one(positive(4))),
    Case("scipy.special.i0", one(normal(4))),
    Case("scipy.special.i1", one(normal(4))),
    Case("scipy.special.iv", one(positive(4)), call=lambda f, x: f(1.5, x), id="iv-1.5"),
    Case("scipy.special.iv", one(positive(2, 3)), call=lambda f, x: f(_ORDERS, x), id="iv-orders"),
    Case("scipy.special.ive", one(normal(4)), call=lambda f, x: f(2, x), id="ive-2"),
    Case("scipy.special.jv", one(positive(4)), call=lambda f, x: f(2.5, x), id="jv-2.5"),
    Case("scipy.special.jn", one(normal(4)), call=lambda f, x: f(2, x), id="jn-2"),
    Case("scipy.special.jn", single(one(normal(4))), call=lambda f, x: f(np.array([0, 1, 3, 2]), x),
         derivatives=False, rtol=1e-6, id="jn-int-orders-float32"),  # int64 orders: scipy's float64
    Case("scipy.special.yn", one(positive(4)), call=lambda f, x: f(2, x), id="yn-2"),
    Case("scipy.special.yn", single(one(positive(4))), call=lambda f, x: f(1, x), derivatives=False, rtol=1e-6,
         id="yn-1-float32"),
    Case("scipy.special.gamma", one(fixed(np.array([-0.5, -1.5, 0.7, 3.2])))),
    Case("scipy.special.rgamma", one(fixed(np.array([-0.5, -1.5, 0.7, 3.2])))),
    Case("scipy.special.gammasgn", one(fixed(np.array([-0.5, -1.5, 0.7, 3.2])))),
    Case("scipy.special.erfcinv", one(uniform(0.1, 1.9, 4))),
    Case("scipy.special.gammainc", one(positive(3, 2)), call=lambda f, x: f(np.array([1.0, 2.5]), x),
         id="gammainc-orders"),
    Case("scipy.special.gammaincc", one(positive(4)), call=lambda f, x: f(2, x), id="gammaincc-2"),
    Case("scipy.special.beta", pair(positive(3), positive(3))),
    Case("scipy.special.betaln", pair(positive(3), positive(2, 3))),
    Case("scipy.special.betainc", one(uniform(0.05, 0.95, 4)), call=lambda f, x: f(2.0, 3.5, x), id="betainc"),
    Case("scipy.special.stdtr", one(normal(4)), call=lambda f, t: f(3.0, t), id="stdtr-3"),
    Case("scipy.special.multigammaln", one(uniform(2.0, 4.0, 4)), call=lambda f, a: f(a, 3), id="multigammaln-3"),
    Case("scipy.special.ndtr", one(normal(4))),
    Case("scipy.special.log_ndtr", one(normal(4))),
    Case("scipy.special.ndtri", one(uniform(0.05, 0.95, 4))),
]
