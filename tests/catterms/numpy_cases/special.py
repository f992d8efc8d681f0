"""Cases for ``catterms.scipy.special`` against scipy.special itself."""

from __future__ import annotations

import numpy as np

from numpy_cases import Case
from numpy_cases.math import one, single
from prim_cases.gen import ints, normal, pair, positive, uniform

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
