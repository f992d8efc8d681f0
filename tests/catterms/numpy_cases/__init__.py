"""Cases for the numpy surface (``catterms.numpy``, ``catterms.scipy``), one module per family.

Each :class:`Case` names a function by its path (``"sin"``, ``"linalg.norm"``, ``"scipy.special.erf"``):
the oracle is the numpy or scipy function of the same path, and the function under test is
``catterms.numpy``'s (or ``catterms.scipy``'s) of that path. ``make`` draws the traced arguments (float
arrays, and integer or boolean ones: indices, masks); ``args`` and ``kwargs`` are static and passed after
them. See ``test_numpy_surface.py`` for what each case checks.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Case:
    fn: str
    make: Callable[[Any], tuple]  # rng -> the traced arguments, a tuple
    kwargs: dict = field(default_factory=dict)
    args: tuple = ()  # static positional arguments after the traced ones
    ref: Callable[..., Any] | None = None  # the oracle, when numpy's own function of that path is not it
    dispatch: bool = True  # whether plain numpy (np.<fn> on tracers) must compile to the same term
    derivatives: bool = True  # False only where the function is not differentiable at the drawn point
    rtol: float = 1e-10
    fd_rtol: float = 1e-6  # central differences are less exact than values
    call: Callable[..., Any] | None = None  # how to call f on the traced arguments: call(f, *xs); default
    #                                        f(*xs, *args, **kwargs) (einsum takes its subscripts first)
    id: str = ""

    def apply(self, f: Callable[..., Any], xs: tuple) -> Any:
        return self.call(f, *xs) if self.call is not None else f(*xs, *self.args, **self.kwargs)

    @property
    def name(self) -> str:
        return self.id or f"{self.fn}{self.kwargs or ''}{self.args or ''}"


CASES: list[Case] = []

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    CASES.extend(importlib.import_module(f"{__name__}.{_info.name}").CASES)
