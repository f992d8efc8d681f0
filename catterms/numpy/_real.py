"""The complex-number vocabulary of numpy on real arrays, which catterms computes in: ``real``, ``conj`` and
``real_if_close`` are the array itself, ``imag`` is zero, ``angle`` is 0 or π by the sign (no derivative),
and the predicates are constant — so code written for either kind of number compiles unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._construct import full_like, zeros_like
from ._logic import where
from ._wrap import asarray, named

__all__ = ["angle", "conj", "conjugate", "imag", "iscomplex", "iscomplexobj", "isreal", "isrealobj", "real",
           "real_if_close"]


def _itself(name: str) -> Any:
    return named(lambda val, *args, **kwargs: asarray(val), name,
                 doc=f"the real array itself (numpy's ``{name}`` of a real array)")


real = _itself("real")
conj = conjugate = _itself("conjugate")
real_if_close = _itself("real_if_close")


def imag(val: Any) -> Any:
    """Zeros: a real array's imaginary part."""
    return zeros_like(val)


def angle(z: Any, deg: bool = False) -> Any:
    """The argument of a real number: 0 where ``z ≥ 0``, π (180 with ``deg``) where it is negative."""
    return where(asarray(z) < 0, 180.0 if deg else np.pi, 0.0)


def iscomplex(x: Any) -> Any:
    """All false: a real array has no imaginary part."""
    return full_like(x, False, dtype=bool)


def isreal(x: Any) -> Any:
    """All true, for a real array."""
    return full_like(x, True, dtype=bool)


def iscomplexobj(x: Any) -> bool:
    """False: catterms arrays are real."""
    return False


def isrealobj(x: Any) -> bool:
    """True: catterms arrays are real."""
    return True
