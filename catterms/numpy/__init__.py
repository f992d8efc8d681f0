"""numpy-named functions for :func:`catterms.compile`: ``import catterms.numpy as cnp``.

Each function has numpy's name, signature and broadcasting, and is a primitive of
:mod:`catterms.prims` or a composition of primitives that costs no more than a primitive would. Inside a
function being compiled they record primitives on traced arrays; on ordinary arrays they compute with
the primitives' own implementations, which is also how a subexpression of constants folds into a
constant. Plain ``np.`` calls on traced arrays dispatch here too (numpy's ``__array_ufunc__`` and
``__array_function__`` protocols, :mod:`catterms.frontend.dispatch`): this package is the one place that
maps numpy's names to primitives. The modules, by family:

* :mod:`._arith` — operators and arithmetic; :mod:`._logic` — comparisons, logic, ``where``;
* :mod:`._math` — elementwise functions; :mod:`._reductions` — reductions and scans;
* :mod:`._shapes` — shapes, joining, splitting; :mod:`._construct` — arrays and constants;
* :mod:`._indexing` — gathers and ``take``; :mod:`._real` — numpy's complex vocabulary on real arrays;
* :mod:`._products` — products; :mod:`.linalg` — ``numpy.linalg``.
"""

from __future__ import annotations

import sys as _sys

import numpy as _numpy

from ..frontend.dispatch import provide as _provide
from . import linalg
from ._arith import *  # noqa: F401,F403
from ._arith import __all__ as _arith
from ._construct import *  # noqa: F401,F403
from ._construct import __all__ as _construct
from ._indexing import *  # noqa: F401,F403
from ._indexing import __all__ as _indexing
from ._logic import *  # noqa: F401,F403
from ._logic import __all__ as _logic
from ._math import *  # noqa: F401,F403
from ._math import __all__ as _math
from ._products import *  # noqa: F401,F403
from ._products import __all__ as _products
from ._real import *  # noqa: F401,F403
from ._real import __all__ as _real
from ._reductions import *  # noqa: F401,F403
from ._reductions import __all__ as _reductions
from ._shapes import *  # noqa: F401,F403
from ._shapes import __all__ as _shapes

__all__ = sorted(
    {*_arith, *_logic, *_math, *_products, *_reductions, *_shapes, *_construct, *_indexing, *_real, "linalg"})


def __getattr__(name: str) -> object:
    """numpy's other names — constants, dtypes, submodules (``cnp.pi``, ``cnp.float64``, ``cnp.newaxis``,
    ``cnp.random``) — so that code written for numpy reads the same under ``import catterms.numpy as np``. A
    numpy function this package does not define is numpy's own: on constants it computes, and on a traced
    array it raises the TraceError that names it (:mod:`catterms.frontend.dispatch`)."""
    try:
        return getattr(_numpy, name)
    except AttributeError:
        raise AttributeError(f"module 'catterms.numpy' has no attribute {name!r}") from None


_provide("numpy", _sys.modules[__name__])  # the tracer's operators and numpy's protocols call this package
