"""Stage 1: tracers, the stand-ins ``ct.compile`` passes to the user's function.

A :class:`Tracer` holds a node of the :class:`~.graph.Graph` being recorded. Python operators and the
functions of :mod:`catterms.numpy` call :func:`apply`, which adds a node when an operand is traced and
otherwise just computes with the primitive's numpy implementation — so a subexpression of constants
folds into a constant. numpy's own functions on a tracer reach :mod:`catterms.numpy` by name through
:mod:`.dispatch`, and so do the operators and methods: catterms.numpy and the front end's indexing are built
on this module, so they register with :mod:`.dispatch` rather than being imported here. Python control
flow runs at compile time; anything that needs a traced array's *value* (``if x > 0``, ``float(x)``,
``np.asarray(x)``) raises :class:`~catterms.errors.TraceError` saying what to write instead.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..codegen import Staged, Sym, staged
from ..errors import TermTypeError, TraceAttributeError, TraceError
from ..prims import TABLE, Rule, bind, invoke
from ..types import Array, widened
from . import dispatch
from .dispatch import cnp, indexing
from .graph import Graph, Node

_BRANCHING = (
    "is data-dependent control flow: Python `if`, `while`, `and`, `or` and the builtins min/max run at "
    "compile time, on values the tracer does not have. Write it with the term language's combinators: "
    "ct.cond(pred, true_fn, false_fn, *operands) for a branch, ct.while_loop(cond_fun, body_fun, init) for a "
    "data-dependent stop, or choose elementwise with cnp.where(condition, x, y) (or cnp.maximum, cnp.minimum, "
    "cnp.clip)"
)


def _method(name: str, varargs: bool = False) -> Any:
    """``x.name(...)`` as ``cnp.name(x, ...)`` (``varargs``: ``x.reshape(2, 3)`` as ``x.reshape((2, 3))``)."""

    def method(self: Tracer, *args: Any, **kwargs: Any) -> Any:
        if varargs and len(args) > 1:
            args = (args,)
        return dispatch.call(f"ndarray.{name}", dispatch.ours(name), (self, *args), kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``cnp.{name}(x, ...)``, as ``ndarray.{name}``."
    return method


def _operator(name: str, swap: bool = False) -> Any:
    """A Python operator as the catterms.numpy function of that name (``swap``: the reflected form)."""
    def op(self: Tracer, other: Any) -> Any:
        if type(other) is Sym:  # a batched tangent's stand-in (catterms.batching.Now): its line is emitted
            return NotImplemented
        return getattr(cnp, name)(other, self) if swap else getattr(cnp, name)(self, other)

    return op


def _logical(name: str, swap: bool = False) -> Any:
    """``&``, ``|``, ``^`` on boolean arrays: numpy's bitwise operators are logical on booleans."""

    def op(self: Tracer, other: Any) -> Any:
        a, b = (other, self) if swap else (self, other)
        if any(operand_type(v).dtype != "bool" for v in (a, b)):
            raise TraceError(f"the bitwise operator for numpy.{name} is supported on boolean arrays only; for "
                             "integers write the arithmetic (e.g. `i % 2`), for conditions combine booleans")
        return getattr(cnp, name.replace("bitwise", "logical"))(a, b)

    return op


class Tracer(Staged):
    """A traced array: the operators, attributes and methods of an ``ndarray``, each recording primitives
    (``x.sum()`` is ``cnp.sum(x)``, ``x < y`` is ``cnp.less(x, y)``); plain numpy functions on it dispatch
    to :mod:`catterms.numpy` (:mod:`.dispatch`). What a term cannot express (its value at compile time,
    mutation, data-dependent shapes) raises :class:`~catterms.errors.TraceError` saying what to write."""

    __slots__ = ("graph", "node")

    def __init__(self, graph: Graph, node: Node) -> None:
        self.graph, self.node = graph, node

    # --- interpretations run on tracers (a derivative term recorded, a term applied inside ct.compile) ---

    @classmethod
    def primitive(cls, rule: Rule, params: dict[str, Any], x: Any) -> Any:
        """A public primitive with static parameters is recorded as itself; any other (the linear maps that
        derivatives are made of, whose coefficients are traced arrays) runs its numpy ``impl`` on the
        tracers, which records the public primitives it is made of — so a derivative term is in the
        public vocabulary, can be sent, and can be differentiated again."""
        operands = (x,) if rule.arity == 1 or not isinstance(x, tuple) else tuple(x)  # a loop's one output
        if rule.public and staged(*params.values()) is None:
            try:
                rule.canonical(params)
            except TermTypeError:
                pass  # a parameter that only derivatives give (scale by a constant array): its numpy code
            else:
                return apply(rule.name, operands, **params)
        return invoke(rule, params, x)

    @classmethod
    def accumulate(cls, buf: Any, index: Any, part: Any) -> Any:
        return indexing.update(buf, index, part, "add")

    # --- static facts --------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.node.array.shape

    @property
    def ndim(self) -> int:
        return self.node.array.ndim

    @property
    def size(self) -> int:
        return self.node.array.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.node.array.dtype)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        if not self.shape:
            raise TraceError("len() of a 0-d traced array")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tracer]:
        if not self.shape:
            raise TraceError("iteration over a 0-d traced array")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self) -> str:
        return f"Tracer({self.node.type})"

    # --- operators -----------------------------------------------------------------------------------

    __add__, __radd__ = _operator("add"), _operator("add", True)
    __sub__, __rsub__ = _operator("subtract"), _operator("subtract", True)
    __mul__, __rmul__ = _operator("multiply"), _operator("multiply", True)
    __truediv__, __rtruediv__ = _operator("divide"), _operator("divide", True)
    __floordiv__, __rfloordiv__ = _operator("floor_divide"), _operator("floor_divide", True)
    __mod__, __rmod__ = _operator("mod"), _operator("mod", True)
    __divmod__, __rdivmod__ = _operator("divmod"), _operator("divmod", True)
    __pow__, __rpow__ = _operator("power"), _operator("power", True)
    __matmul__, __rmatmul__ = _operator("matmul"), _operator("matmul", True)
    __lt__, __le__ = _operator("less"), _operator("less_equal")
    __gt__, __ge__ = _operator("greater"), _operator("greater_equal")
    __eq__, __ne__ = _operator("equal"), _operator("not_equal")  # type: ignore[assignment]
    __and__, __rand__ = _logical("bitwise_and"), _logical("bitwise_and", True)
    __or__, __ror__ = _logical("bitwise_or"), _logical("bitwise_or", True)
    __xor__, __rxor__ = _logical("bitwise_xor"), _logical("bitwise_xor", True)
    __hash__ = object.__hash__  # identity: a tracer is a node of one trace, and == builds a comparison

    def __neg__(self) -> Any:
        return cnp.negative(self)

    def __pos__(self) -> Tracer:
        return self

    def __abs__(self) -> Any:
        return cnp.abs(self)

    def __invert__(self) -> Any:
        if self.dtype != np.bool_:
            raise TraceError("~ (numpy.invert) is supported on boolean arrays only: it is logical not there")
        return cnp.logical_not(self)

    def __round__(self, ndigits: int | None = None) -> Any:
        return cnp.round(self, 0 if ndigits is None else ndigits)

    # --- indexing and array methods ------------------------------------------------------------------

    def __getitem__(self, idx: Any) -> Any:
        return indexing.getitem(self, idx)

    @property
    def at(self) -> Any:
        """Functional updates, as JAX has them: ``x.at[idx].set(v)``, ``.add``, ``.multiply``, ``.min``,
        ``.max`` return a new array."""
        return indexing.At(self)

    @property
    def T(self) -> Any:
        return cnp.transpose(self)

    @property
    def mT(self) -> Any:
        return cnp.swapaxes(self, -1, -2)

    @property
    def real(self) -> Any:
        return cnp.real(self)

    @property
    def imag(self) -> Any:
        return cnp.imag(self)

    def copy(self) -> Tracer:
        return self  # values are immutable: a copy is the value itself

    reshape = _method("reshape", varargs=True)
    transpose = _method("transpose", varargs=True)
    flatten = _method("ravel")

    def __getattr__(self, name: str) -> Any:
        if name in _REFUSED:
            raise TraceError(_REFUSED[name])
        raise TraceAttributeError(f"a traced array has no attribute {name!r} (catterms supports the ndarray "
                                  "attributes and methods that map to catterms.numpy functions)")

    # --- what a tracer cannot do: each refusal says why and what to write instead ---------------------

    def __bool__(self) -> bool:
        raise TraceError(f"the truth value of a traced array {_BRANCHING}")

    def _value(self) -> Any:
        raise TraceError("a traced array has no value at compile time, so it cannot become a Python number "
                         "or index; keep computing with it as an array (catterms.numpy accepts traced arrays)")

    __float__ = __int__ = __complex__ = _value

    def __index__(self) -> int:
        raise TraceError("a traced array cannot be a Python index (range(x), a list's [x], an ndarray's [x]): to "
                         "index a constant array W by a traced index write cnp.take(W, i, axis=0), or make W an "
                         "argument; loop bounds must be static")

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise TraceError("traced arrays are immutable: instead of x[idx] = v write x = x.at[idx].set(v) "
                         "(or .add(v), .multiply(v), .min(v), .max(v)), which returns the updated array")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TraceError("numpy cannot turn a traced array into an ndarray (np.asarray, np.array, a numpy function "
                         "catterms does not support, or a constant W indexed as W[i]): use catterms.numpy (import "
                         "catterms.numpy as cnp), whose functions accept traced arrays — for W[i] with a traced i, "
                         "cnp.take(W, i, axis=0)")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(type(i) is Sym for i in inputs):  # as for the operators: Sym's protocol emits the line
            return NotImplemented
        return dispatch.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return dispatch.function(func, args, kwargs)


#: ndarray methods that are the catterms.numpy function of the same name applied to the array.
METHODS = ("all", "any", "argmax", "argmin", "argsort", "astype", "clip", "conj", "conjugate", "cumprod", "cumsum",
           "diagonal", "dot", "max", "mean", "min", "prod", "ptp", "ravel", "repeat", "round", "squeeze", "std", "sum",
           "swapaxes", "take", "trace", "var")
for _name in METHODS:
    setattr(Tracer, _name, _method(_name))
del _name

_REFUSED = {
    "sort": "x.sort() sorts in place; traced arrays are immutable: write cnp.sort(x)",
    "fill": "x.fill(v) writes in place; traced arrays are immutable: write cnp.full_like(x, v)",
    "item": "x.item() needs the value at compile time, which a traced array does not have",
    "tolist": "x.tolist() needs the values at compile time, which a traced array does not have",
    "nonzero": "x.nonzero() has a shape that depends on the data, which a term cannot express: use cnp.where",
}


# --- applying a primitive ------------------------------------------------------------------------------


def _is_number(x: Any) -> bool:
    """Python scalars (and numpy's float64 scalar, a float subclass) adopt the other operands' dtype."""
    return isinstance(x, (int, float)) and not isinstance(x, Tracer) and not isinstance(x, np.generic)


def constant(x: Any, dtype: Any = None) -> np.ndarray:
    """An operand that is not traced, as the array it stands for: a Python number in ``dtype`` if given
    (weakly typed, NEP 50), else as numpy makes it; narrow integers widen to int64."""
    try:
        arr = np.asarray(x, dtype=dtype if _is_number(x) else None)
    except (TypeError, ValueError) as e:
        raise TraceError(f"cannot use {type(x).__name__} {x!r} as an array: {e}") from None
    arr = widened(arr)
    if arr.dtype.kind not in "fib" or arr.dtype == np.float16:
        raise TraceError(f"cannot use a {type(x).__name__} of dtype {arr.dtype} as an array: catterms computes in "
                         "float64, float32, int64, int32 and bool")
    return arr


def _graph(operands: list[Any]) -> Graph | None:
    """The graph the operands are recorded in. A traced array of an enclosing ``ct.compile`` call (a function
    compiled or differentiated inside another closes over it) is *captured*: it becomes an input of the
    graph being recorded now, so the inner term treats it as a constant and the outer one sees it used."""
    graphs = {id(o.graph): o.graph for o in operands if isinstance(o, Tracer)}
    current = _TRACING.get()
    if len(graphs) > 1 or (current is not None and graphs and current not in graphs.values()):
        if current is None or not all(g is current or current.within(g) for g in graphs.values()):
            raise TraceError("values traced by different ct.compile calls cannot be combined: pass what the "
                             "inner function needs as its arguments")
        operands[:] = [captured(current, o) for o in operands]
        graphs = {id(current): current}
    graph = next(iter(graphs.values()), None)
    if graph is not None and not graph.open:
        raise TraceError("a traced array escaped from the ct.compile call that made it and was used afterwards")
    return graph


def captured(graph: Graph, x: Any) -> Any:
    """``x`` as a value of ``graph``: itself, or for a tracer of an enclosing trace, the input that captures it."""
    if not isinstance(x, Tracer) or x.graph is graph:
        return x
    if not x.graph.open:
        raise TraceError("a traced array escaped from the ct.compile call that made it and was used afterwards")
    return Tracer(graph, graph.capture(x))


_TRACING: contextvars.ContextVar[Graph | None] = contextvars.ContextVar("catterms_tracing", default=None)


@contextmanager
def tracing(graph: Graph) -> Iterator[Graph]:
    """Mark ``graph`` as the one being recorded, so constants built inside can join it (:func:`lifted`)."""
    token = _TRACING.set(graph)
    try:
        yield graph
    finally:
        _TRACING.reset(token)


def current() -> Graph | None:
    """The graph being recorded now (the innermost ``ct.compile`` call running), or None."""
    return _TRACING.get()


def lifted(value: Any) -> Any:
    """A constant made inside a function being compiled, as a (constant) traced array of that graph, so that
    it has the traced arrays' methods (``cnp.zeros(n).at[i].set(v)``); outside ``ct.compile``, the array."""
    graph = _TRACING.get()
    return value if graph is None or not graph.open else Tracer(graph, graph.const(constant(value)))


def holds_tracer(x: Any) -> bool:
    """Whether ``x`` is a traced array, or a (nested) list or tuple holding one."""
    return isinstance(x, Tracer) or (isinstance(x, (list, tuple)) and any(holds_tracer(o) for o in x))


def operand(x: Any) -> Any:
    """An operand as a primitive takes it: a nested list or tuple holding traced arrays is the array numpy
    would make of it (``cnp.array``: they are stacked); anything else is left as it is."""
    return cnp.array(x) if isinstance(x, (list, tuple)) and holds_tracer(x) else x


def constant_value(x: Any) -> Any:
    """``x``'s value when it is a constant — an untraced value as it is, a traced constant (:func:`lifted`)
    read back — or None for a traced array that is computed or an input."""
    if isinstance(x, Tracer):
        return x.node.term.value if x.node.term is not None else None  # only a const node has a term
    return x


def operand_type(x: Any) -> Array:
    """The type of a traced or constant operand."""
    x = operand(x)
    if isinstance(x, Tracer):
        return x.node.array
    arr = constant(x)
    return Array(arr.shape, arr.dtype)


def _weak(x: Any, dtypes: list[str]) -> Any:
    """The dtype a Python number takes among arrays of ``dtypes`` (numpy's NEP 50: ``f32 * 2`` is f32,
    ``i64 * 0.5`` is f64); None for anything that is not a Python number."""
    return np.result_type(*dtypes, x) if _is_number(x) and dtypes else None


def apply(name: str, operands: Sequence[Any], **params: Any) -> Any:
    """The primitive ``name`` on ``operands``: a new traced node when any operand is traced, otherwise the
    primitive's numpy implementation run on the constants (after the same shape check)."""
    rule = TABLE[name]
    canonical = rule.canonical(params)
    operands = [operand(o) for o in operands]
    graph = _graph(operands)
    dtypes = [operand_type(o).dtype for o in operands if not _is_number(o)]
    values = [o if isinstance(o, Tracer) else constant(o, _weak(o, dtypes)) for o in operands]
    if graph is None:
        dom = tuple(Array(v.shape, v.dtype) for v in values)
        x = values[0] if rule.arity == 1 else tuple(values)
        rule.type(dom[0] if rule.arity == 1 else dom, **dict(canonical))
        return bind(rule, dict(canonical))(x)  # as evaluation calls it (a binary rule takes two arrays)
    nodes = tuple(v.node if isinstance(v, Tracer) else graph.constant(v) for v in values)
    return _traced(graph, graph.prim(name, canonical, nodes))


def _traced(graph: Graph, node: Node) -> Any:
    """A node as the user holds it: a traced array, or a tuple of them for a primitive whose result is a
    product (``eigh``, ``slogdet``), each component a projection of the one node."""
    if isinstance(node.type, tuple):
        return tuple(_traced(graph, graph.component(node, i)) for i in range(len(node.type)))
    return Tracer(graph, node)

