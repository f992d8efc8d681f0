"""Stage 1: tracers, the stand-ins ``ct.compile`` passes to the user's function.

A :class:`Tracer` holds a node of the :class:`~.graph.Graph` being recorded. Python operators and the
functions of :mod:`catterms.numpy` call :func:`apply`, which adds a node when an operand is traced and
otherwise just computes with the primitive's numpy implementation — so a subexpression of constants
folds into a constant. Python control flow runs at compile time; anything that needs a traced
array's *value* (``if x > 0``, ``float(x)``, ``np.sin(x)``) raises :class:`~catterms.errors.TraceError`
saying what to write instead. numpy's own functions are refused by name, pointing to their
:mod:`catterms.numpy` counterparts, except the arithmetic ufuncs behind ``ndarray <op> tracer`` (which
is how such an expression reaches us) and ``np.shape``/``np.ndim``, whose answers are static.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np

from ..errors import TraceError
from ..prims import TABLE
from ..types import Array
from .graph import Graph, Node

_BRANCHING = (
    "is data-dependent control flow, which a term cannot express: Python `if`, `while`, `and`, `or`, "
    "comparisons and min/max run at compile time, on values the tracer does not have. Express the choice "
    "with cnp.maximum, cnp.minimum, cnp.relu or cnp.abs instead"
)


class Tracer:
    """A traced array: supports ``+ - * / ** @``, unary ``-``, ``abs``, static indexing, ``.T``,
    ``.shape``, ``.ndim``, ``.dtype``, ``.reshape``, ``.sum``, ``.mean`` and ``.max``."""

    __slots__ = ("graph", "node")

    def __init__(self, graph: Graph, node: Node) -> None:
        self.graph, self.node = graph, node

    # --- static facts --------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.node.type.shape

    @property
    def ndim(self) -> int:
        return self.node.type.ndim

    @property
    def size(self) -> int:
        return self.node.type.size

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.node.type.dtype)

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

    # --- arithmetic ----------------------------------------------------------------------------------

    def __add__(self, other: Any) -> Any:
        return cnp.add(self, other)

    def __radd__(self, other: Any) -> Any:
        return cnp.add(other, self)

    def __sub__(self, other: Any) -> Any:
        return cnp.subtract(self, other)

    def __rsub__(self, other: Any) -> Any:
        return cnp.subtract(other, self)

    def __mul__(self, other: Any) -> Any:
        return cnp.multiply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return cnp.multiply(other, self)

    def __truediv__(self, other: Any) -> Any:
        return cnp.divide(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return cnp.divide(other, self)

    def __pow__(self, other: Any) -> Any:
        return cnp.power(self, other)

    def __rpow__(self, other: Any) -> Any:
        return cnp.power(other, self)

    def __matmul__(self, other: Any) -> Any:
        return cnp.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return cnp.matmul(other, self)

    def __neg__(self) -> Any:
        return cnp.negative(self)

    def __pos__(self) -> Tracer:
        return self

    def __abs__(self) -> Any:
        return cnp.abs(self)

    # --- array methods -------------------------------------------------------------------------------

    def __getitem__(self, idx: Any) -> Any:
        from .indexing import getitem

        return getitem(self, idx)

    @property
    def at(self) -> Any:
        """Functional updates, as JAX has them: ``x.at[idx].set(v)``, ``.add``, ``.multiply``, ``.min``,
        ``.max`` return a new array."""
        from .indexing import At

        return At(self)

    @property
    def T(self) -> Any:
        return cnp.transpose(self)

    def reshape(self, *shape: Any) -> Any:
        return cnp.reshape(self, shape[0] if len(shape) == 1 else shape)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        return cnp.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        return cnp.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return cnp.max(self, axis=axis, keepdims=keepdims)

    # --- what a tracer cannot do: each refusal says why and what to write instead ---------------------

    def __bool__(self) -> bool:
        raise TraceError(f"the truth value of a traced array {_BRANCHING}")

    def _compare(self, other: Any) -> Any:
        raise TraceError(f"comparing traced arrays {_BRANCHING}")

    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _compare
    __hash__ = object.__hash__

    def _value(self) -> Any:
        raise TraceError("a traced array has no value at compile time, so it cannot become a Python number "
                         "or index; keep computing with it as an array (catterms.numpy accepts traced arrays)")

    __float__ = __int__ = __complex__ = __index__ = _value

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise TraceError("traced arrays are immutable: instead of x[idx] = v write x = x.at[idx].set(v) "
                         "(or .add(v), .multiply(v), .min(v), .max(v)), which returns the updated array")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TraceError("numpy cannot turn a traced array into an ndarray: use the functions of "
                         "catterms.numpy (import catterms.numpy as cnp) on traced arrays")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # numpy routes `ndarray <op> tracer` here; those operators are ours. Any other ufunc is refused.
        op = _OPERATOR_UFUNCS.get(ufunc.__name__)
        if op is not None and method == "__call__" and not kwargs:
            return getattr(cnp, op)(*inputs)
        raise TraceError(_numpy_refusal(ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"))

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func in (np.shape, np.ndim) and args and args[0] is self and len(args) + len(kwargs) == 1:
            return getattr(self, func.__name__)  # static facts are known at compile time
        raise TraceError(_numpy_refusal(func.__name__))


_OPERATOR_UFUNCS = {"add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "divide",
                    "true_divide": "divide", "power": "power", "matmul": "matmul"}
_NUMPY_NAMES = {"absolute": "abs", "true_divide": "divide", "amax": "max"}


def _numpy_refusal(name: str) -> str:
    ours = _NUMPY_NAMES.get(name, name)
    hint = (f"use cnp.{ours} (import catterms.numpy as cnp)" if hasattr(cnp, ours)
            else "catterms.numpy has no counterpart; write it with the functions catterms.numpy offers")
    return f"numpy.{name} cannot run on a traced array: {hint}"


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
    if arr.dtype.kind == "u" or arr.dtype in (np.int8, np.int16):
        arr = arr.astype("int64")
    elif arr.dtype.kind not in "fib" or arr.dtype == np.float16:
        raise TraceError(f"cannot use a {type(x).__name__} of dtype {arr.dtype} as an array: catterms computes in "
                         "float64, float32, int64, int32 and bool")
    return arr


def _graph(operands: Sequence[Any]) -> Graph | None:
    graphs = {id(o.graph): o.graph for o in operands if isinstance(o, Tracer)}
    if len(graphs) > 1:
        raise TraceError("values traced by different ct.compile calls cannot be combined: pass what the inner "
                         "function needs as its arguments")
    graph = next(iter(graphs.values()), None)
    if graph is not None and not graph.open:
        raise TraceError("a traced array escaped from the ct.compile call that made it and was used afterwards")
    return graph


_TRACING: contextvars.ContextVar[Graph | None] = contextvars.ContextVar("catterms_tracing", default=None)


@contextmanager
def tracing(graph: Graph) -> Iterator[Graph]:
    """Mark ``graph`` as the one being recorded, so constants built inside can join it (:func:`lifted`)."""
    token = _TRACING.set(graph)
    try:
        yield graph
    finally:
        _TRACING.reset(token)


def lifted(value: Any) -> Any:
    """A constant made inside a function being compiled, as a (constant) traced array of that graph, so that
    it has the traced arrays' methods (``cnp.zeros(n).at[i].set(v)``); outside ``ct.compile``, the array."""
    graph = _TRACING.get()
    return value if graph is None or not graph.open else Tracer(graph, graph.const(constant(value)))


def operand_type(x: Any) -> Array:
    """The type of a traced or constant operand."""
    if isinstance(x, Tracer):
        return x.node.type
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
    graph = _graph(operands)
    dtypes = [operand_type(o).dtype for o in operands if not _is_number(o)]
    values = [o if isinstance(o, Tracer) else constant(o, _weak(o, dtypes)) for o in operands]
    if graph is None:
        dom = tuple(Array(v.shape, v.dtype) for v in values)
        rule.type(dom[0] if rule.arity == 1 else dom, **dict(canonical))
        return rule.impl(values[0] if rule.arity == 1 else tuple(values), **dict(canonical))
    nodes = tuple(v.node if isinstance(v, Tracer) else graph.const(v) for v in values)
    return Tracer(graph, graph.prim(name, canonical, nodes))


from .. import numpy as cnp  # noqa: E402  (the operators above are catterms.numpy's functions)
