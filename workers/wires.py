"""Wires: where the pieces of a value live while a term is split into tasks.

A wire mirrors a type: a tuple of wires for a product, and for each array a leaf saying where that
array comes from — :class:`Ref` (a path into a task's output, or into the job's input), :class:`Lit`
(a constant of the term), :class:`Zero` (padding from an injection) or :class:`Unused` (not read by
the step at all). Plumbing moves wires around and never computes anything; a task gathers the arrays
its input wire names and runs a subterm on them.

A :data:`Mask` says which arrays of a value a subterm reads; the planner's demand analysis computes it
so that a step is sent only the arrays it needs (a member of an ensemble gets its own weights, not the
whole ensemble's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from catterms import Array, Type
from catterms.engine import trees

#: The source number of the job's input in a :class:`Ref`.
INPUT = -1


class Ref:
    """The array at ``path`` inside the output of task ``source`` (or of the job input, ``INPUT``)."""

    __slots__ = ("source", "path")

    def __init__(self, source: int, path: tuple[int, ...]) -> None:
        self.source, self.path = source, path

    def __repr__(self) -> str:
        return f"Ref({'input' if self.source == INPUT else self.source}, {self.path})"


class Lit:
    """A constant array of the term."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Lit{tuple(self.value.shape)}"


class Zero:
    """The zero array of ``type`` (what an injection pads with)."""

    __slots__ = ("type",)

    def __init__(self, type: Array) -> None:
        self.type = type

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.type})"


class Unused(Zero):
    """An array of ``type`` that the step does not read (its demand says so): nothing is sent for it,
    and the task sees a zero that costs no memory."""


Leaf = Ref | Lit | Zero
Wire = Leaf | tuple


def expand(source: int, ty: Type, path: tuple[int, ...] = ()) -> Wire:
    """The wire of a whole output of ``source``, one :class:`Ref` per array."""
    return trees.build(ty, lambda p, _: Ref(source, p), at=path)


def filled(ty: Type, leaf: Callable[[Array], Leaf]) -> Wire:
    """A wire of type ``ty`` with ``leaf(array type)`` everywhere (e.g. ``filled(t, Zero)``)."""
    return trees.map(leaf, ty)


def origins(wire: Wire) -> list[int]:
    """The sources of a wire's :class:`Ref` s, without repeats, in order."""
    seen: dict[int, None] = {}
    _origins(wire, seen)
    return list(seen)


def _origins(wire: Wire, seen: dict[int, None]) -> None:
    # the one walk of a wire kept by hand: the planner asks it of every fork's output wire, which may have
    # thousands of leaves, and inline it costs no call per leaf (trees.leaves builds a list first)
    if isinstance(wire, Ref):
        seen[wire.source] = None
    elif isinstance(wire, tuple):
        for w in wire:
            if isinstance(w, Ref):
                seen[w.source] = None
            elif isinstance(w, tuple):
                _origins(w, seen)


class Pad:
    """The mask of a tuple of ``n`` parts of which only those in ``parts`` may be read: what a projection
    needs of its input, without a ``False`` for each of the others. A derivative term reads its variables
    from an environment of thousands of them, each by a projection: dense, its masks would cost the
    planner a walk of the whole environment per variable read."""

    __slots__ = ("n", "parts")

    def __init__(self, n: int, parts: dict[int, Mask]) -> None:
        self.n, self.parts = n, parts

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"Pad({self.n}, {self.parts})"


#: Which arrays of a value are needed: mirrors its type, a bool per array (or one for a whole tuple: all of
#: it or none of it), or a :class:`Pad` for a tuple of which few parts are read.
Mask = bool | tuple | Pad


def full(ty: Type, value: bool) -> Mask:
    return trees.map(lambda _: value, ty)


def part(m: Mask, i: int) -> Mask:
    """Component ``i`` of a mask of a tuple."""
    if isinstance(m, Pad):
        return m.parts.get(i, False)
    return m if isinstance(m, bool) else m[i]


def needed(m: Mask) -> bool:
    """Whether any array of the mask is needed."""
    if isinstance(m, Pad):
        return any(needed(c) for c in m.parts.values())
    return m if isinstance(m, bool) else any(needed(c) for c in m)


def narrow(wire: Wire, reads: Mask, ty: Type) -> Wire:
    """``wire`` with the arrays ``reads`` leaves out replaced by :class:`Unused`."""
    if isinstance(reads, bool):
        return wire if reads else filled(ty, Unused)
    w, t = cast(tuple, wire), cast(tuple, ty)
    return tuple(narrow(w[i], part(reads, i), t[i]) for i in range(len(t)))


def read_from(wire: Wire, reads: Mask) -> list[int]:
    """The sources of the arrays of ``wire`` that ``reads`` reads (:func:`origins` of the narrowed wire, in
    time proportional to what is read)."""
    seen: dict[int, None] = {}
    _read_from(wire, reads, seen)
    return list(seen)


def _read_from(wire: Wire, reads: Mask, seen: dict[int, None]) -> None:
    if reads is True:
        _origins(wire, seen)
    elif isinstance(reads, Pad):
        for i, m in reads.parts.items():
            _read_from(cast(tuple, wire)[i], m, seen)
    elif isinstance(reads, tuple):
        for w, m in zip(cast(tuple, wire), reads, strict=False):
            _read_from(w, m, seen)
