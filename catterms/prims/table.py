"""The table of primitives itself: :class:`Rule`, ``TABLE``, :func:`register`, how a rule is applied
(:func:`bind`), and the checks and parameter normalisers the rule modules share.

The rule modules (:mod:`catterms.prims.elementwise` and its kin) import this module and fill the table;
:mod:`catterms.prims` imports them all, so that the table is full once the package is loaded (the
package's docstring describes a rule's fields).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..codegen import apply, out_spec, staged, sym_type, symbolic
from ..errors import TermTypeError, WireFormatError
from ..terms import set_canonical
from ..types import Array, Type, broadcast_shapes, show

TABLE: dict[str, Rule] = {}

#: Relative cost of one element operation, by kind (a multiply is 1; ``exp`` or ``sin`` about 8).
CHEAP, TRANSCENDENTAL = 1.0, 8.0


@dataclass(frozen=True)
class Rule:
    """One primitive: implementation, shape rule, derivative or transpose, and cost, side by side."""

    name: str
    arity: int
    impl: Callable[..., Any]
    type: Callable[..., Type]
    cost: Callable[..., float]
    deriv: Callable[..., Any] | None = None
    transpose: Callable[..., Any] | None = None
    params: Mapping[str, tuple[Any, Callable[[Any], Any]]] = field(default_factory=dict)
    public: bool = True
    lazy: bool = False
    elementwise: bool = False
    blas: bool = False  # its cost counts BLAS flops, which run 10–50 × faster than elementwise loops
    doc: str = ""
    #: For a rule whose derivative reads more than its result (a loop's carries at every step): given the
    #: parameters, those of the variant that returns the result followed by ``k`` more leaves, and ``k``;
    #: None where the parameters already ask for them. Forward and reverse mode run the variant once, for
    #: the value and the derivative; evaluation runs the rule as it is.
    saving: Callable[[dict[str, Any]], tuple[dict[str, Any], int] | None] | None = None

    @property
    def linear(self) -> bool:
        return self.transpose is not None

    def canonical(self, params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        """Validate and normalise parameters into the hashable form a term stores."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise TermTypeError(f"primitive {self.name} has no parameter {sorted(unknown)[0]!r}")
        out = []
        for name, (default, norm) in self.params.items():
            value = params.get(name, default)
            try:
                out.append((name, norm(value)))
            except (TypeError, ValueError) as e:
                raise TermTypeError(f"primitive {self.name}: bad {name}={value!r}: {e}") from None
        return tuple(out)


def register(rule: Rule) -> Rule:
    if rule.name in TABLE:
        raise ValueError(f"primitive {rule.name!r} is defined twice")
    if (rule.deriv is None) == (rule.transpose is None):
        raise ValueError(f"primitive {rule.name!r} needs exactly one of deriv (non-linear) or transpose (linear)")
    TABLE[rule.name] = rule
    return rule


def applied(name: str, x: Any, **params: Any) -> Any:
    """The primitive ``name`` on ``x`` (an array, or the tuple an ``arity`` 0 or 2 rule takes), called from
    another rule's code: its ``impl`` computes on values; on staged values (a derivative term being
    recorded) it is recorded as itself, so the term stays in the public vocabulary."""
    return bind(TABLE[name], params)(x)


def bind(rule: Rule, params: dict[str, Any]) -> Callable[[Any], Any]:
    """A primitive applied to its input: computed now, or emitted while generating code."""
    impl = rule.impl
    held = staged(*params.values())  # a derivative's coefficient, while a derivative term is recorded
    if rule.lazy:
        return lambda x: _kind(held, x, _Now).primitive(rule, params, x)
    extra, kw = _convention(rule, params)

    def run(x: Any) -> Any:
        kind = _kind(held, x, None)
        if kind is not None:
            return kind.primitive(rule, params, x)
        args = (x if rule.arity == 2 else (x,)) + extra
        return apply(impl, args, kw, lambda: out_spec(rule.type(sym_type(x), **params)))

    return run


def _kind(held: Any, x: Any, default: Any) -> Any:
    """Who applies a primitive: the staged kind of a parameter or of ``x`` — unless ``x`` holds a Sym, whose
    line is emitted (a batched tangent's, :class:`~catterms.batching.Now`, with traced coefficients)."""
    kind = held or staged(x)
    return default if kind is None or symbolic((x,)) else kind


def _convention(rule: Rule, params: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """How ``rule.impl`` takes its parameters: positionally for a ufunc (scale is np.multiply(x, s), which
    lets generated code write it in place, :mod:`catterms.buffers`), else by keyword."""
    return (tuple(params.values()), {}) if isinstance(rule.impl, np.ufunc) else ((), params)


def invoke(rule: Rule, params: dict[str, Any], x: Any) -> Any:
    """``rule.impl`` run on ``x`` now, whatever ``x`` is (an array, a tuple of them, tracers): the table's
    calling convention, as :func:`bind` uses it."""
    extra, kw = _convention(rule, params)
    return rule.impl(*((x if rule.arity == 2 else (x,)) + extra), **kw)


class _Now:
    """A lazy rule (``scatter``, ``pow``) on values that are not staged: its ``impl`` runs now."""

    primitive = staticmethod(invoke)


def no_derivative(lin: Any, x: Any, y: Any, **params: Any) -> Any:
    """The derivative of a primitive that is locally constant or whose result has no tangent: zero."""
    return lin.zero()


def lookup(name: str) -> Rule:
    """The rule of a public primitive; unknown names raise the wire-format error (it is what decodes them)."""
    rule = TABLE.get(name) if isinstance(name, str) else None
    if rule is None or not rule.public:
        raise WireFormatError(f"unknown primitive {name!r}")
    return rule


set_canonical(lambda name, params: lookup(name).canonical(params))


# --- parameter normalisers (values must be hashable and msgpack-able) ---------------------------------


def p_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("expected an integer")
    return int(v)


def p_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError("expected a number")
    if not math.isfinite(v):
        raise ValueError("expected a finite number (NaN would make the term unequal to itself)")
    return float(v)


def p_bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError("expected a boolean")
    return v


def p_ints(v: Any) -> tuple[int, ...]:
    if isinstance(v, int) and not isinstance(v, bool):
        return (int(v),)
    if not isinstance(v, (tuple, list)):
        raise TypeError("expected a tuple of integers")
    return tuple(p_int(x) for x in v)


def p_axis(v: Any) -> int | tuple[int, ...] | None:
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return int(v)
    return p_ints(v)


def p_opt_ints(v: Any) -> tuple[int, ...] | None:
    return None if v is None else p_ints(v)


# --- shape-rule helpers --------------------------------------------------------------------------------


def want_array(name: str, dom: Type) -> Array:
    if not isinstance(dom, Array):
        raise TermTypeError(f"{name} expects an array, got {show(dom)}")
    return dom


#: The dtype kinds a row accepts: floats only (functions such as ``sin``), numbers, or anything.
FLOAT, NUMERIC, ANY = "f", "fi", "fib"
_KINDS = {FLOAT: "a float array", NUMERIC: "a float or integer array", ANY: "an array"}


def of_kind(name: str, a: Array, kinds: str) -> Array:
    """``a``, if its dtype is of one of ``kinds``; else the error saying what to write instead."""
    if np.dtype(a.dtype).kind not in kinds:
        raise TermTypeError(f"{name} expects {_KINDS[kinds]}, got {a}; convert it first (astype)")
    return a


def want_float(name: str, dom: Type) -> Array:
    """A float array (functions such as ``sin`` are defined on floats; the front end casts integers first)."""
    return of_kind(name, want_array(name, dom), FLOAT)


def broadcast_shape(name: str, parts: Sequence[Array]) -> tuple[int, ...]:
    """The shape ``parts`` broadcast to, with numpy's rules; else the error naming ``name`` and the shapes."""
    try:
        return broadcast_shapes(*(a.shape for a in parts))
    except ValueError:
        raise TermTypeError(f"{name}: shapes {', '.join(map(str, parts))} do not broadcast") from None


def want_arrays(name: str, dom: Type, n: int | None) -> tuple[Array, ...]:
    if not (isinstance(dom, tuple) and all(isinstance(c, Array) for c in dom) and len(dom) >= 1
            and (n is None or len(dom) == n)):
        what = f"a {n}-tuple of arrays" if n else "a tuple of arrays"
        raise TermTypeError(f"{name} expects {what}, got {show(dom)}")
    return dom


def norm_axes(name: str, axis: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Axes as a sorted tuple of non-negative ints; ``None`` means all."""
    axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise TermTypeError(f"{name}: axis {a} is out of range for rank {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise TermTypeError(f"{name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def shapes(x: Any) -> Any:
    """The domain description handed to linear maps: a shape, or a tuple of shapes."""
    return x.shape if not isinstance(x, tuple) else tuple(c.shape for c in x)
