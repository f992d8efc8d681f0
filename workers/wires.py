"""Wires: where the pieces of a value live while a term is split into tasks.

A wire mirrors a type: a tuple of wires for a product, and for each array a leaf saying where that
array comes from — :class:`Ref` (a path into a task's output, or into the job's input), :class:`Lit`
(a constant of the term) or :class:`Zero` (padding from an injection). Plumbing moves wires around and
never computes anything; a task gathers the arrays its input wire names and runs a subterm on them.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Union

from catterms.types import Array, Type

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
        return f"Zero({self.type})"


Leaf = Union[Ref, Lit, Zero]
Wire = Union[Leaf, tuple]


def expand(source: int, ty: Type, path: tuple[int, ...] = ()) -> Wire:
    """The wire of a whole output of ``source``, one :class:`Ref` per array."""
    if isinstance(ty, Array):
        return Ref(source, path)
    return tuple(expand(source, c, path + (i,)) for i, c in enumerate(ty))


def zero_wire(ty: Type) -> Wire:
    if isinstance(ty, Array):
        return Zero(ty)
    return tuple(zero_wire(c) for c in ty)


def leaves(wire: Wire, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Leaf]]:
    """``(position, leaf)`` for each array of a wire, left to right."""
    if isinstance(wire, tuple):
        for i, w in enumerate(wire):
            yield from leaves(w, path + (i,))
    else:
        yield path, wire


def rebuild(wire: Wire, leaf: Callable[[tuple[int, ...], Leaf], Any], path: tuple[int, ...] = ()) -> Any:
    """A value shaped like ``wire`` with ``leaf(position, leaf)`` at each array."""
    if isinstance(wire, tuple):
        return tuple(rebuild(w, leaf, path + (i,)) for i, w in enumerate(wire))
    return leaf(path, wire)


def pick(value: Any, path: tuple[int, ...]) -> Any:
    """The component of a (nested tuple) value at ``path``."""
    for i in path:
        value = value[i]
    return value


def build(ty: Type, at: Callable[[tuple[int, ...]], Any], path: tuple[int, ...] = ()) -> Any:
    """A value of type ``ty`` with ``at(path)`` at each array."""
    if isinstance(ty, Array):
        return at(path)
    return tuple(build(c, at, path + (i,)) for i, c in enumerate(ty))
