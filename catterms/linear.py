"""Linear maps, and the Dual construction that transposes them.

:class:`Additive` is the paper's category of additive functions ``a -+> b`` (§4.4): a linear map is a
Python function on tangents. It is cocartesian as well as cartesian — ``inl``/``inr`` pad with
:data:`~catterms.vectors.ZERO`, ``jam`` adds — and it knows two maps by name, the identity and the zero
map, so compositions through constants collapse instead of computing zeros.

:class:`Dual` is §13's ``Dual_k``: a morphism ``a → b`` *is* a ``k``-morphism ``b → a``. Composition
flips, ``×`` stays, and the cartesian and cocartesian structures swap: ``exl ↔ inl``, ``dup ↔ jam``,
``△ ↔ ▽`` (Cor. 5.1). A linear primitive becomes its table transpose. Nothing else changes, which is
why reverse mode needs no second set of derivative rules: it is ``D`` over ``Dual(Additive)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .category import Category, sequence
from .codegen import current_location, located
from .evaluate import bind
from .prims import Rule
from .types import Array
from .vectors import ZERO, Broadcast, LazyTuple, add, broadcast, component, dense, total, zeros

Lin = Callable[[Any], Any]


def _identity(t: Any) -> Any:
    return t


def _zero(t: Any) -> Any:
    return ZERO


class LinearCategory(Category[Lin]):
    """A category of linear maps: the Category protocol plus ``zero`` and linear primitives."""

    def zero(self) -> Lin:
        raise self.missing("zero")

    def linear(self, rule: Rule, params: dict[str, Any], dom: Any) -> Lin:
        """The linear primitive ``rule`` on domain ``dom`` (a shape or tuple of shapes)."""
        raise self.missing(f"linear primitive {rule.name}")


class Additive(LinearCategory):
    """Linear maps as functions on tangent values."""

    def id(self) -> Lin:
        return _identity

    def zero(self) -> Lin:
        return _zero

    def compose(self, fs: Sequence[Lin]) -> Lin:
        fs = [f for f in fs if f is not _identity]
        if any(f is _zero for f in fs):
            return _zero
        if not fs:
            return _identity
        return fs[0] if len(fs) == 1 else sequence(fs)

    def cross(self, fs: Sequence[Lin]) -> Lin:
        if all(f is _zero for f in fs):
            return _zero
        return lambda t: tuple([ZERO if f is _zero else f(component(t, i)) for i, f in enumerate(fs)])

    def fork(self, fs: Sequence[Lin]) -> Lin:
        if all(f is _zero for f in fs):
            return _zero
        return lambda t: LazyTuple(fs, t)

    def join(self, fs: Sequence[Lin]) -> Lin:
        live = [(i, f) for i, f in enumerate(fs) if f is not _zero]
        if not live:
            return _zero
        if len(live) == 1:
            (i, f), = live
            return lambda t: f(component(t, i))
        return lambda t: total([f(component(t, i)) for i, f in live])

    def proj(self, i: int, n: int) -> Lin:
        return lambda t: component(t, i)

    def dup(self, n: int) -> Lin:
        return lambda t: (t,) * n

    def jam(self, n: int) -> Lin:
        if n == 2:
            return lambda t: add(component(t, 0), component(t, 1))
        return lambda t: total([component(t, i) for i in range(n)])

    def inj(self, i: int, n: int, like: tuple | None) -> Lin:
        return lambda t: tuple(t if j == i else ZERO for j in range(n))

    def linear(self, rule: Rule, params: dict[str, Any], dom: Any) -> Lin:
        f = _attributed(bind(rule, params))
        if rule.elementwise:
            # commutes with broadcasting: act on the small array of a Broadcast
            return lambda t: (ZERO if t is ZERO else broadcast(f(t.value), t.shape) if type(t) is Broadcast
                              else f(dense(t)))
        if rule.arity == 1 or all(isinstance(d, int) for d in dom):  # one array (a loop's single output)
            return lambda t: ZERO if t is ZERO else f(dense(t))
        return lambda t: ZERO if t is ZERO else _on_dense_parts(f, t, dom)


def _attributed(f: Lin) -> Lin:
    """``f``, emitting its code under the location current now (the primitive whose derivative it is)."""
    where = current_location()
    if where is None:
        return f

    def run(t: Any) -> Any:
        with located(where):
            return f(t)

    return run


def _on_dense_parts(f: Lin, t: Any, dom: tuple) -> Any:
    """``f`` (a binary or n-ary linear primitive such as add) on a tuple tangent as arrays, zero parts
    made real; a tuple of zeros maps to zero (a tuple whose parts all turned out zero is not ``ZERO``
    itself, e.g. the tangent ``(exl △ exl) ∘ inr`` gives)."""
    parts = [dense(component(t, i)) for i in range(len(dom))]
    live = next((p for p in parts if p is not ZERO), None)
    if live is None:
        return ZERO
    return f(tuple(zeros(Array(s, live.dtype)) if p is ZERO else p for p, s in zip(parts, dom)))


class Dual(LinearCategory):
    """``Dual_k``: a morphism ``a → b`` is represented by ``inner``'s morphism ``b → a``."""

    def __init__(self, inner: LinearCategory) -> None:
        self.inner = inner

    def id(self) -> Lin:
        return self.inner.id()

    def zero(self) -> Lin:
        return self.inner.zero()

    def compose(self, fs: Sequence[Lin]) -> Lin:
        return self.inner.compose(list(reversed(fs)))

    def cross(self, fs: Sequence[Lin]) -> Lin:
        return self.inner.cross(fs)

    def fork(self, fs: Sequence[Lin]) -> Lin:
        return self.inner.join(fs)

    def join(self, fs: Sequence[Lin]) -> Lin:
        return self.inner.fork(fs)

    def proj(self, i: int, n: int) -> Lin:
        return self.inner.inj(i, n, None)

    def dup(self, n: int) -> Lin:
        return self.inner.jam(n)

    def jam(self, n: int) -> Lin:
        return self.inner.dup(n)

    def inj(self, i: int, n: int, like: tuple | None) -> Lin:
        return self.inner.proj(i, n)

    def linear(self, rule: Rule, params: dict[str, Any], dom: Any) -> Lin:
        assert rule.transpose is not None  # only linear primitives get here
        return rule.transpose(self.inner, dom, **params)


ADDITIVE = Additive()
DUAL = Dual(ADDITIVE)
