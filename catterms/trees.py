"""Trees: "an array or a nested tuple of them", walked once for every kind of leaf.

A tree is a Python ``tuple`` of trees or a leaf, and a leaf is anything that is not a tuple: an ndarray
(values, tangents), an :class:`~catterms.types.Array` (types), a symbol of generated code, ``None`` (the
tangent of an integer part). Types, values, tangents and the workers' wires all have this shape, so their
flattening, rebuilding and mapping are the functions below rather than a walker per module.

Ours, not a library's (optree, JAX's pytrees): our only node kind is the tuple, so these are a few lines
with no registry of node types to consult per node, and ``catterms`` keeps to numpy and msgpack. It sits at
the bottom of the package and imports nothing from it.

Lists are leaves here. Where a user may spell a product as a list (:func:`catterms.types.type_of`, the
front end's specs) the walkers that accept it, and check it, are their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Tree = Any
"""A leaf or a tuple of trees."""
Path = tuple[int, ...]
"""Where a leaf is: the index taken at each tuple on the way down (``()`` for a tree that is a leaf)."""


def leaves(tree: Tree) -> list[Any]:
    """The leaves of ``tree``, left to right."""
    if not isinstance(tree, tuple):
        return [tree]
    out: list[Any] = []
    stack = [tree]
    while stack:  # a loop, not recursion: a wide tuple of leaves costs no call per leaf
        t = stack.pop()
        if isinstance(t, tuple):
            stack.extend(reversed(t))
        else:
            out.append(t)
    return out


def at_most(tree: Tree, n: int) -> bool:
    """Whether ``tree`` has at most ``n`` leaves, found without listing a wide tuple's every leaf."""
    stack = [tree]
    while stack:
        t = stack.pop()
        if isinstance(t, tuple):
            stack.extend(t)
        else:
            n -= 1
            if n < 0:
                return False
    return True


def paths(tree: Tree) -> list[tuple[Path, Any]]:
    """``(path, leaf)`` for each leaf of ``tree``, left to right (``pick(tree, path) is leaf``)."""
    out: list[tuple[Path, Any]] = []
    stack: list[tuple[Path, Tree]] = [((), tree)]
    while stack:
        path, t = stack.pop()
        if isinstance(t, tuple):
            stack.extend((path + (i,), c) for i, c in reversed(list(enumerate(t))))
        else:
            out.append((path, t))
    return out


def map(f: Callable[..., Any], tree: Tree, *rest: Tree) -> Tree:
    """A tree shaped like ``tree`` with ``f(leaf, *parts)`` at each leaf, ``parts`` being what is at the
    same place in each of ``rest`` (a leaf, or a whole subtree where ``tree`` has a leaf)."""
    if not rest:
        return _map1(f, tree) if isinstance(tree, tuple) else f(tree)
    if len(rest) == 1:
        return _map2(f, tree, rest[0]) if isinstance(tree, tuple) else f(tree, rest[0])
    if not isinstance(tree, tuple):
        return f(tree, *rest)
    return tuple([map(f, *parts) for parts in zip(tree, *rest)])



# One tree and two, the common cases, with each leaf told apart in the loop: a leaf then costs one call,
# f's, as in a walker written for the occasion (these run on every value of every call of the API).
def _map1(f: Callable[[Any], Any], tree: tuple) -> tuple:
    return tuple([_map1(f, c) if isinstance(c, tuple) else f(c) for c in tree])


def _map2(f: Callable[[Any, Any], Any], tree: tuple, other: Any) -> tuple:
    return tuple([_map2(f, c, o) if isinstance(c, tuple) else f(c, o) for c, o in zip(tree, other)])


def build(tree: Tree, f: Callable[[Path, Any], Any], at: Path = ()) -> Tree:
    """A tree shaped like ``tree`` with ``f(path, leaf)`` at each leaf; ``at`` is the path of ``tree``
    itself within a larger tree (the paths given to ``f`` start with it)."""
    if not isinstance(tree, tuple):
        return f(at, tree)
    return tuple([build(c, f, at + (i,)) if isinstance(c, tuple) else f(at + (i,), c) for i, c in enumerate(tree)])


def unflatten(tree: Tree, values: Iterable[Any]) -> Tree:
    """A tree shaped like ``tree`` holding ``values`` at its leaves, left to right (the inverse of
    :func:`leaves`: ``unflatten(t, leaves(t)) == t``)."""
    it = iter(values)
    return map(lambda _: next(it), tree)


def pick(tree: Tree, path: Path) -> Any:
    """The subtree of ``tree`` at ``path``."""
    for i in path:
        tree = tree[i]
    return tree
