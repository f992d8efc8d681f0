"""Stage 1's product: the traced program as a hash-consed DAG of primitive applications.

The tracer (:mod:`.tracer`) adds one :class:`Node` per operation. The same primitive applied to the same
operands with the same parameters is one node, so a value written twice in the source (``x[:-1]`` in both
halves of Rosenbrock) is computed once. Every node carries its type, computed by the primitive's own
shape rule as the node is made, so an ill-shaped operation fails at the line of the user's function that
wrote it, as a :class:`~catterms.errors.TermTypeError` naming the operation. Nodes are numbered in
creation order, which is a topological order: operands before their users.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TraceError
from ..prims import TABLE
from ..terms import Term, const
from ..types import Array, Type


class Node:
    """One value of the traced program.

    ``kind`` is ``input`` (the argument component at ``path``, a tuple of ``(i, n)`` projections),
    ``const`` (``term`` is its const term), ``prim`` (``name`` applied to ``args`` with ``params``),
    ``proj`` (component ``params = (i, n)`` of a primitive with a tuple result, such as ``eigh``) or
    ``tuple`` (the function's result, when it is a product).
    """

    __slots__ = ("kind", "name", "params", "args", "type", "term", "path", "index")

    def __init__(self, kind: str, type: Type, index: int, *, name: str = "", params: tuple = (),
                 args: tuple[Node, ...] = (), term: Term | None = None, path: tuple = ()) -> None:
        self.kind, self.type, self.index = kind, type, index
        self.name, self.params, self.args, self.term, self.path = name, params, args, term, path

    @property
    def array(self) -> Array:
        """The node's type where it is an array: every node but the tuple results and the ``tuple`` node."""
        assert isinstance(self.type, Array), f"{self!r} is a tuple"
        return self.type

    @property
    def computed(self) -> bool:
        """Whether the node is a computation (as opposed to an input or a constant)."""
        return self.kind in ("prim", "proj", "tuple")

    def __repr__(self) -> str:
        what = self.name or self.kind
        return f"<{what} #{self.index}>"


class Graph:
    """The DAG of one ``ct.compile`` call; it is closed when tracing ends, so escaped tracers are caught."""

    def __init__(self, parent: Graph | None = None) -> None:
        self.nodes: list[Node] = []
        self._interned: dict[tuple, Node] = {}
        self.open = True
        self.parent = parent  # the graph of the enclosing ct.compile call, if this one runs inside it
        self.captures: list[Any] = []  # tracers of enclosing graphs this one reads, in order: extra inputs

    def within(self, other: Graph) -> bool:
        """Whether ``other`` encloses this graph."""
        g = self.parent
        while g is not None and g is not other:
            g = g.parent
        return g is other

    def capture(self, tracer: Any) -> Node:
        """The input standing for a tracer of an enclosing graph (one per distinct node)."""
        key = ("capture", id(tracer.graph), tracer.node.index)
        node = self._interned.get(key)
        if node is None:
            self.captures.append(tracer)
            node = self._intern(key, "input", tracer.node.type, path=("capture", len(self.captures) - 1))
        return node

    def _intern(self, key: tuple, kind: str, type: Type, **fields: Any) -> Node:
        node = self._interned.get(key)
        if node is None:
            node = Node(kind, type, len(self.nodes), **fields)
            self.nodes.append(node)
            self._interned[key] = node
        return node

    def input(self, path: tuple, type: Array) -> Node:
        return self._intern(("input", path), "input", type, path=path)

    def const(self, value: np.ndarray) -> Node:
        term = const(value, value.dtype)  # explicitly: a 0-d float32 stays float32
        return self._intern(("const",) + term.data, "const", Array(term.value.shape, term.value.dtype), term=term)

    def constant(self, value: np.ndarray) -> Node:
        """An operand that is not traced: a constant, or for an array of one repeated value (the zeros a
        derivative pads with) that value broadcast, so a term does not carry a large array of one number."""
        every = value.reshape(-1)
        # the ends first: a data array (most constants) is told apart without a pass over it
        if every.size > 1 and value.ndim and every[0] == every[-1] and not np.any(every != every[0]):
            scalar = self.const(np.array(every[0]))
            return self.prim("broadcast_to", (("shape", value.shape),), (scalar,))
        return self.const(value)

    def prim(self, name: str, params: tuple, args: tuple[Node, ...]) -> Node:
        """``name`` applied to ``args``; its type comes from the primitive's shape rule."""
        rule = TABLE[name]
        dom = args[0].type if rule.arity == 1 else tuple(a.type for a in args)
        cod = rule.type(dom, **dict(params))
        key = ("prim", name, params, tuple(a.index for a in args))
        return self._intern(key, "prim", cod, name=name, params=params, args=args)

    def component(self, of: Node, i: int) -> Node:
        """Component ``i`` of ``of``'s tuple result (the term's ``proj``)."""
        parts = of.type
        assert isinstance(parts, tuple), f"{of!r} is not a tuple"
        return self._intern(("proj", of.index, i), "proj", parts[i], params=(i, len(parts)), args=(of,))

    def tuple(self, args: tuple[Node, ...]) -> Node:
        """The product of the function's results (at least two)."""
        if len(args) < 2:
            raise TraceError(f"a function must return an array or a tuple of at least two, got a {len(args)}-tuple")
        key = ("tuple", tuple(a.index for a in args))
        return self._intern(key, "tuple", tuple(a.type for a in args), args=args)
