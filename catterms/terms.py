"""Terms: the paper's categorical vocabulary as small immutable syntax.

A term denotes a morphism ``a → b``. There is one node class, :class:`Term`, with an ``op`` tag, static
``data`` and child terms ``args``:

==========  ============================  ==================================================
op          data                          meaning
==========  ============================  ==================================================
id          ()                            identity
compose     ()                            ``fₙ ∘ … ∘ f₁``; ``args`` in application order
cross       ()                            ``f₁ × … × fₙ`` on n-tuples (paper §15 for n > 2)
fork        ()                            ``f₁ △ … △ fₙ`` = cross ∘ dup
join        ()                            ``f₁ ▽ … ▽ fₙ`` = jam ∘ cross
proj        (i, n)                        ``exl`` = proj(0, 2), ``exr`` = proj(1, 2)
dup         (n,)                          ``a → aⁿ``
jam         (n,)                          ``aⁿ → a``, the sum
inj         (i, n, like)                  ``inl``/``inr``: pad with zeros of ``like``'s types
prim        (name, params)                a numeric primitive from :mod:`catterms.prims`
const       (dtype, shape, digest)        ``λ_. c``
==========  ============================  ==================================================

Nodes hash and compare structurally (hashes are computed once, at construction, so terms make cheap
cache and task keys), and equality, depth and size are computed without recursion: a term may be far
deeper than Python's recursion limit. ``n``-ary compose/cross/fork/join keep long chains and wide
branching shallow.

This module is the bottom of the house: it imports only :mod:`catterms.types`. What needs more is
registered by the layer that knows it: the table's check of a ``prim``'s parameters by
:mod:`catterms.prims`, the paper's notation as ``repr`` by :mod:`catterms.pretty`, pickling by
:mod:`catterms.wire`, Dask's token by ``workers.tokens``. ``import catterms`` loads them all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .types import Array, Type, is_type, widened

#: ``size`` saturates here, so a hostile DAG with exponentially many paths cannot make huge integers.
SIZE_CAP = 1 << 62


class Term:
    """One node of a term; build terms with the functions below rather than this constructor.

    Immutable, as :class:`~catterms.types.Array` is: its hash is computed once, from its children's, and
    every cache of the library is keyed by terms."""

    __slots__ = ("op", "data", "args", "value", "depth", "size", "_hash")
    op: str
    data: tuple
    args: tuple[Term, ...]
    value: Any
    depth: int
    size: int
    _hash: int

    def __init__(self, op: str, data: tuple = (), args: tuple[Term, ...] = (), value: Any = None) -> None:
        put = object.__setattr__
        put(self, "op", op)
        put(self, "data", data)
        put(self, "args", args)
        put(self, "value", value)  # the array of a const node, else None
        put(self, "depth", 1 + max((a.depth for a in args), default=0))
        put(self, "size", min(SIZE_CAP, 1 + sum(a.size for a in args)))
        put(self, "_hash", hash((op, data, tuple(a._hash for a in args))))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Term is immutable; cannot set {name} (build a new term instead)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Term is immutable; cannot delete {name}")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Term):
            return NotImplemented
        seen: set[tuple[int, int]] = set()
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b or (id(a), id(b)) in seen:
                continue
            if a._hash != b._hash or a.op != b.op or a.data != b.data or len(a.args) != len(b.args):
                return False
            seen.add((id(a), id(b)))
            stack.extend(zip(a.args, b.args))
        return True

    def __rshift__(self, then: Term) -> Term:
        """``f >> g`` is "f, then g", i.e. ``g ∘ f``."""
        return compose(then, self)

    def __repr__(self) -> str:
        return _render(self)

    def nodes(self, bodies: bool = False) -> Iterator[Term]:
        """Each distinct node once, children before parents (the order the wire format uses); with
        ``bodies``, a primitive's term parameters (a loop's body) count as its children too."""
        seen: set[int] = set()
        stack: list[tuple[Term, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                yield node
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                below = node.args + (node_bodies(node) if bodies else ())
                stack.extend((a, False) for a in reversed(below) if id(a) not in seen)


def node_bodies(node: Term) -> tuple[Term, ...]:
    """A primitive's term-valued parameters (a loop's body): terms a node holds that are not its children."""
    if node.op != "prim":
        return ()
    return tuple(v for _, v in node.data[1] if isinstance(v, Term))


def _plain(term: Term) -> str:
    return f"Term({term.op!r}, {term.data!r}, <{len(term.args)} children>)"


def _no_table(name: str, params: dict[str, Any]) -> tuple:
    raise RuntimeError("prim() needs catterms.prims, which import catterms loads")


#: How a term prints, and how ``prim`` checks and orders a primitive's parameters: set by
#: :mod:`catterms.pretty` and :mod:`catterms.prims` when they load (see the module docstring).
_render: Callable[[Term], str] = _plain
_canonical: Callable[[str, dict[str, Any]], tuple] = _no_table


def set_repr(render: Callable[[Term], str]) -> None:
    """Print terms with ``render`` (what :mod:`catterms.pretty` calls, once, with its ``pretty``)."""
    global _render
    _render = render


def set_canonical(canonical: Callable[[str, dict[str, Any]], tuple]) -> None:
    """Check ``prim``'s parameters with ``canonical(name, params)`` (:mod:`catterms.prims` installs its table's)."""
    global _canonical
    _canonical = canonical


def _terms(fs: tuple[Any, ...], what: str) -> tuple[Term, ...]:
    for f in fs:
        if not isinstance(f, Term):
            raise TypeError(f"{what} takes terms, got {type(f).__name__}")
    return fs


def compose(*fs: Term) -> Term:
    """``compose(g, f)`` is ``g ∘ f``: apply ``f``, then ``g``. Flattens and drops identities."""
    chain: list[Term] = []
    for f in reversed(_terms(fs, "compose")):
        if f.op == "compose":
            chain.extend(f.args)
        elif f.op != "id":
            chain.append(f)
    if not chain:
        return identity
    return chain[0] if len(chain) == 1 else Term("compose", (), tuple(chain))


def _nary(op: str, fs: tuple[Term, ...]) -> Term:
    if len(fs) < 2:
        raise TypeError(f"{op} takes at least two terms, got {len(fs)}")
    return Term(op, (), _terms(fs, op))


def cross(*fs: Term) -> Term:
    """``f × g × …``: apply the i-th term to the i-th component."""
    return _nary("cross", fs)


def fork(*fs: Term) -> Term:
    """``f △ g △ …``: apply every term to the same input; the branches are independent."""
    return _nary("fork", fs)


def join(*fs: Term) -> Term:
    """``f ▽ g ▽ …``: apply the i-th term to the i-th component and add the results."""
    return _nary("join", fs)


def proj(i: int, n: int) -> Term:
    """The i-th projection of an n-tuple (``exI``); ``exl``/``exr`` for n = 2."""
    if not (isinstance(n, int) and isinstance(i, int) and n >= 2 and 0 <= i < n):
        raise TypeError(f"proj needs 0 <= i < n and n >= 2, got i={i!r}, n={n!r}")
    return Term("proj", (i, n))


def dupn(n: int) -> Term:
    """``a → aⁿ`` (``replI``); ``dup`` for n = 2."""
    if not (isinstance(n, int) and n >= 2):
        raise TypeError(f"dup needs n >= 2, got {n!r}")
    return Term("dup", (n,))


def jamn(n: int) -> Term:
    """``aⁿ → a``, the sum of the components (``jamI``); ``jam`` for n = 2."""
    if not (isinstance(n, int) and n >= 2):
        raise TypeError(f"jam needs n >= 2, got {n!r}")
    return Term("jam", (n,))


def inj(i: int, n: int, like: Type | None = None) -> Term:
    """The i-th injection into an n-tuple (``inI``), padding with zeros.

    ``like`` is the n-tuple type to inject into; without it every other component has the input's type
    (the biproduct ``a ⊕ a``, as ``jam`` consumes it).
    """
    if not (isinstance(n, int) and isinstance(i, int) and n >= 2 and 0 <= i < n):
        raise TypeError(f"inj needs 0 <= i < n and n >= 2, got i={i!r}, n={n!r}")
    if like is not None and not (isinstance(like, tuple) and len(like) == n and is_type(like)):
        raise TypeError(f"inj's like must be a {n}-tuple type, got {like!r}")
    return Term("inj", (i, n, like))


def prim(name: str, **params: Any) -> Term:
    """A numeric primitive from the table, e.g. ``prim("sum", axis=0)``."""
    return Term("prim", (name, _canonical(name, params)))


def const(value: Any, dtype: Any = None) -> Term:
    """``λ_. c``: ignores its input and returns the array ``value``. Python numbers and lists are float64
    unless ``dtype`` says otherwise; numpy values keep their own dtype (integer and boolean constants are
    indices and masks)."""
    if dtype is None and not isinstance(value, (np.ndarray, np.generic)):
        dtype = "float64"
    arr = np.array(value, dtype=dtype)
    arr = widened(arr)
    Array(arr.shape, arr.dtype)  # rejects complex and object arrays
    arr = np.array(arr, order="C")
    arr.flags.writeable = False
    digest = hashlib.blake2b(arr.tobytes(), digest_size=16).digest()
    return Term("const", (arr.dtype.name, arr.shape, digest), (), arr)


def scale(s: float) -> Term:
    """The paper's ``scale s``: multiply by the constant scalar ``s``."""
    return prim("scale", s=s)


identity = Term("id")
exl = proj(0, 2)
exr = proj(1, 2)
dup = dupn(2)
jam = jamn(2)
inl = inj(0, 2)
inr = inj(1, 2)

