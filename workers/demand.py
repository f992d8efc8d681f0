"""Which arrays of its input a subterm reads: one more interpretation of a term.

The planner sends a step only the input arrays its subterm reads (:class:`Demand`: an ensemble member
receives its own weights, not the ensemble's). It is folded on demand (:func:`~catterms.engine.on_demand`),
a subterm at a time, as the planner emits its steps.

A :data:`~workers.wires.Mask` here may be *compact*: a ``bool`` where the value is a tuple stands for
all of it or none of it (what :func:`~workers.wires.narrow` reads), so the masks need no types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from catterms.engine import Category, Rule

from .wires import Mask, Pad, needed, part

#: A morphism of :class:`Demand`: which arrays of the input are read when the arrays ``m`` of the output
#: are needed.
Reads = Callable[[Mask], Mask]


def merged(masks: Iterable[Mask]) -> Mask:
    """The union of masks of one value: an array is read if one of them reads it. Stops at the first
    that reads all of it: the rest need not be asked (they may be branches still to interpret)."""
    parts: list[tuple | Pad] = []
    for m in masks:
        if m is True:
            return True
        if not isinstance(m, bool):
            parts.append(m)
    if not parts:
        return False
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(m, Pad) for m in parts):  # the variables of an environment: a union of the few read
        read: dict[int, list[Mask]] = {}
        for m in parts:
            for i, c in cast(Pad, m).parts.items():
                read.setdefault(i, []).append(c)
        return Pad(len(parts[0]), {i: merged(cs) for i, cs in read.items()})
    return tuple(merged([part(m, i) for m in parts]) for i in range(len(parts[0])))


class Demand(Category[Reads]):
    """Which arrays of its input a subterm reads: the ``Dual`` construction (:class:`catterms.linear.Dual`)
    over boolean masks. Composition runs backwards, and each generator maps to its dual — fork and dup to
    a union, jam to a copy, a projection to padding, an injection to picking its component. Plumbing
    reads only what it passes on, a primitive all of its input if any of its output is needed, a constant
    nothing. ``fork`` is given directly, to ask its branches only until one reads all of the input."""

    # the parts are indexed, not iterated: a Sequence's iterator stops at an IndexError, raised and caught
    # once per node, at a cost comparable to interpreting one

    def id(self) -> Reads:
        return lambda m: m

    def compose(self, fs: Sequence[Reads]) -> Reads:
        def back(m: Mask) -> Mask:
            for i in range(len(fs) - 1, -1, -1):
                m = fs[i](m)
            return m

        return back

    def cross(self, fs: Sequence[Reads]) -> Reads:
        return lambda m: tuple([fs[i](part(m, i)) for i in range(len(fs))])

    def fork(self, fs: Sequence[Reads]) -> Reads:
        return lambda m: merged(fs[i](part(m, i)) for i in range(len(fs)))

    def proj(self, i: int, n: int) -> Reads:
        return lambda m: Pad(n, {i: m}) if needed(m) else False

    def dup(self, n: int) -> Reads:
        return lambda m: merged(part(m, i) for i in range(n))

    def jam(self, n: int) -> Reads:
        # compact where it can be: all (or none) of a sum's output needs all (or none) of its n terms, and a
        # bool says so without a mask per term for the planner to walk (a 100,000-way sum of a fork's branches)
        return lambda m: m if isinstance(m, bool) else (m,) * n

    def inj(self, i: int, n: int, like: tuple | None) -> Reads:
        return lambda m: part(m, i)

    def prim(self, rule: Rule, params: dict[str, Any]) -> Reads:
        return needed

    def const(self, value: Any) -> Reads:
        return lambda m: False


DEMAND = Demand()
