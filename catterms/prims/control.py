"""Loops as primitives of the table: ``scan`` holds its body, a term traced once, and runs it step by step.

``scan[body, nconst, ncarry, length, reverse, save]`` takes a flat tuple ``(i₀, k…, c…, x…)``: an int64
scalar, the start index; ``nconst`` constants, read by every step; ``ncarry`` carried arrays; and arrays
``x`` of leading axis ``length``. Step ``j`` (in order, or from the end with ``reverse``) runs
``body(i₀ + j, k…, c…, x[j]…) = (c′…, y…)``. The result is ``(c…, ys…)`` — the last carries and the ``y`` of
every step stacked along a new leading axis — followed, with ``save``, by the carries each step started
from, stacked the same way (``cs``): what the derivative reads, so it never runs the loop again.

The derivative is a loop again, written with this same primitive (no second rule set, and a derivative
*term* of a loop is a loop). Forward mode is ``scan_jvp``: a scan whose body is the body's forward-mode
derivative term, carrying the tangents of the carries and reading the saved carries and the inputs as
``x``. Its transpose ``scan_vjp`` is reverse mode: a scan in the other direction whose body is the body's
reverse-mode derivative term, carrying the carries' cotangents (plus each constant's, summed over the
steps) and returning the inputs' cotangents as its ``ys``. Both are linear primitives of the table, each the
other's transpose, so ``D`` over additive maps and over their ``Dual`` handle them as any other. Integer
and boolean leaves (the index ``i``, counters, masks) have no tangent; they are carried in the primal loop
and read from ``cs`` by the derivative loops.

The user-facing functions (``ct.scan``, ``ct.fori_loop``) flatten nested carries and inputs into this
layout and trace the body (:mod:`catterms.loops`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import TermTypeError
from ..types import Array, Type, show
from . import TABLE, Rule, applied, p_bool, p_int, register


def p_term(v: Any) -> Any:
    from ..terms import Term

    if not isinstance(v, Term):
        raise TypeError("expected a Term")
    return v


def leaves_of(v: Any) -> tuple:
    """A flat tuple's parts; one array is its own only part (a term has no 1-tuples)."""
    return v if isinstance(v, tuple) else (v,)


def packed(vs: Sequence[Any]) -> Any:
    """The inverse of :func:`leaves_of`."""
    vs = tuple(vs)
    return vs[0] if len(vs) == 1 else vs


def _float(a: Any) -> bool:
    return np.dtype(a.dtype).kind == "f"


class Layout:
    """Where the parts of a scan's input and output are, and the body's input type, from the input type."""

    def __init__(self, dom: Type, nconst: int, ncarry: int, length: int) -> None:
        parts = leaves_of(dom)
        if len(parts) < 1 + nconst + ncarry or not all(isinstance(p, Array) for p in parts):
            raise TermTypeError(f"scan expects a flat tuple (start index, {nconst} constants, {ncarry} carries, "
                                f"inputs), got {show(dom)}")
        i0 = parts[0]
        if i0.shape != () or np.dtype(i0.dtype).kind != "i":
            raise TermTypeError(f"scan: the start index must be an integer scalar, got {i0}")
        self.i0 = i0
        self.consts = parts[1:1 + nconst]
        self.carry = parts[1 + nconst:1 + nconst + ncarry]
        self.xs = parts[1 + nconst + ncarry:]
        for k, x in enumerate(self.xs):
            if x.shape[:1] != (length,):
                raise TermTypeError(f"scan: input {k} has shape {x.shape}, but the loop has {length} steps: each "
                                    f"input needs a leading axis of length {length}")
        self.rows = tuple(Array(x.shape[1:], x.dtype) for x in self.xs)
        self.body_dom = packed((i0, *self.consts, *self.carry, *self.rows))


def body_type(body: Any, lay: Layout, ncarry: int) -> tuple[Array, ...]:
    """The body's result leaves ``(c′…, y…)``, once its carry is checked to come back as it went in."""
    from ..typecheck import infer

    out = leaves_of(infer(body, lay.body_dom))
    if tuple(out[:ncarry]) != tuple(lay.carry) or not all(isinstance(o, Array) for o in out):
        back = show(packed(out[:ncarry])) if len(out) >= ncarry and ncarry else "nothing"
        raise TermTypeError(f"scan: the body must return its carry as it takes it, {show(packed(lay.carry))}, "
                            f"but returns {back}")
    return out


def _scan_type(dom: Type, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool) -> Type:
    lay = Layout(dom, nconst, ncarry, length)
    ys = body_type(body, lay, ncarry)[ncarry:]
    stacked = [Array((length,) + a.shape, a.dtype) for a in ys + (lay.carry if save else ())]
    return packed((*lay.carry, *stacked))


def _scan_cost(dom: Type, cod: Type, body: Any, nconst: int, ncarry: int, length: int, reverse: bool,
               save: bool) -> Any:
    from ..cost import Cost
    from ..typecheck import cost

    step = cost(body, Layout(dom, nconst, ncarry, length).body_dom)
    return Cost(*(length * v for v in step))  # one step after the other: the span is the work's too


def _stacked(rows: list, like: Sequence[Array], length: int) -> list:
    """Per leaf, the step results stacked along a new leading axis (empty arrays for a loop of no steps)."""
    if not rows:
        return [np.zeros((length,) + a.shape, a.dtype) for a in like]
    return [np.stack(parts) for parts in zip(*rows)]


def _scan(x: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool) -> Any:
    from ..compiler import program
    from ..types import type_of

    parts = leaves_of(x)
    i0, consts = parts[0], parts[1:1 + nconst]
    carry = parts[1 + nconst:1 + nconst + ncarry]
    xs = parts[1 + nconst + ncarry:]
    lay = Layout(type_of(parts if len(parts) > 1 else parts[0]), nconst, ncarry, length)
    run = program(body, lay.body_dom, "value")
    out_types = body_type(body, lay, ncarry)
    ys, cs = [], []
    for j in (range(length - 1, -1, -1) if reverse else range(length)):
        if save:
            cs.append(carry)
        out = leaves_of(run(packed((np.asarray(i0 + j), *consts, *carry, *(a[j] for a in xs)))))
        carry = out[:ncarry]
        ys.append(out[ncarry:])
    if reverse:
        ys.reverse()
        cs.reverse()
    stacked = _stacked(ys, out_types[ncarry:], length) + (_stacked(cs, lay.carry, length) if save else [])
    return packed((*carry, *stacked))


def _scan_deriv(lin: Any, x: Any, y: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool,
                save: bool) -> Any:
    point = leaves_of(x)
    lay = Layout(_point_types(point), nconst, ncarry, length)
    if not any(_float(a) for a in point) or not any(_float(a) for a in body_type(body, lay, ncarry)):
        return lin.zero()  # no float input, or no float output: nothing has a derivative
    params = dict(body=body, nconst=nconst, ncarry=ncarry, length=length, reverse=reverse)
    full = y if save else applied("scan", x, **params, save=True)
    cs = leaves_of(full)[len(leaves_of(full)) - ncarry:] if ncarry else ()
    return lin.linear(TABLE["scan_jvp"], {**params, "save": save, "point": point, "cs": tuple(cs)}, _shapes(point))


register(Rule(
    "scan", 0, _scan, _scan_type, _scan_cost, deriv=_scan_deriv,
    params={"body": (None, p_term), "nconst": (0, p_int), "ncarry": (0, p_int), "length": (0, p_int),
            "reverse": (False, p_bool), "save": (False, p_bool)},
    doc="a loop: body run length times on (index, constants, carries, inputs' rows), ys stacked",
))


# --- the derivative loops --------------------------------------------------------------------------------


def _shapes(parts: Sequence[Any]) -> Any:
    return tuple(np.shape(p) for p in parts)


class Point:
    """A scan's linear map's coefficients, in the scan's layout: the input it was taken at and the carries
    each step started from."""

    def __init__(self, point: tuple, cs: tuple, nconst: int, ncarry: int, length: int) -> None:
        self.i0, self.consts = point[0], point[1:1 + nconst]
        self.carry, self.xs, self.cs = point[1 + nconst:1 + nconst + ncarry], point[1 + nconst + ncarry:], cs
        self.layout = Layout(_point_types(point), nconst, ncarry, length)


def _floats(parts: Sequence[Any]) -> list[int]:
    return [k for k, p in enumerate(parts) if _float(p)]


def _zero(a: Array) -> np.ndarray:
    return np.zeros(a.shape, a.dtype)


def jvp_body(body: Any, lay: Layout, nconst: int, ncarry: int) -> Any:
    """``(i, k…, dk…, dc…, c…, x…, dx…) ↦ (dc′…, dy…)`` over the float leaves: the body's forward mode as a
    term, the body of ``scan_jvp``'s loop (constants and their tangents constant, the tangents of the
    carries carried, the saved carries and the inputs read row by row)."""
    return _derived(body, lay, nconst, ncarry, "jvp")


def vjp_body(body: Any, lay: Layout, nconst: int, ncarry: int, save: bool) -> Any:
    """``(i, k…, dc…, dk…, c…, x…, dy…[, dcs…]) ↦ (dc_before…, dk + dk_step…, dx…)`` over the float leaves:
    the body's reverse mode as a term, the body of ``scan_vjp``'s loop (``dcs``: the cotangent of the saved
    carry of this step, added to the carry's)."""
    return _derived(body, lay, nconst, ncarry, "vjp_save" if save else "vjp")


def _derived(body: Any, lay: Layout, nconst: int, ncarry: int, how: str) -> Any:
    from ..derivatives import loop_body

    return loop_body(body, lay.body_dom, nconst, ncarry, how)


def _scan_jvp(t: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool,
              point: tuple, cs: tuple) -> Any:
    p = Point(point, cs, nconst, ncarry, length)
    lay = p.layout
    t = leaves_of(t)
    fk, fc, fx = _floats(p.consts), _floats(p.carry), _floats(p.xs)
    dk = [t[1 + k] for k in fk]
    dc = [t[1 + nconst + k] for k in fc]
    dx = [t[1 + nconst + ncarry + k] for k in fx]
    inner = applied("scan", packed((p.i0, *p.consts, *dk, *dc, *cs, *p.xs, *dx)),
                    body=jvp_body(body, lay, nconst, ncarry), nconst=nconst + len(fk), ncarry=len(fc),
                    length=length, reverse=reverse, save=save)
    out = leaves_of(inner)
    ys = body_type(body, lay, ncarry)[ncarry:]
    fy = _floats(ys)
    last, dys, dcs = out[:len(fc)], out[len(fc):len(fc) + len(fy)], out[len(fc) + len(fy):]
    carry_t = _spread(last, fc, [_zero(c) for c in lay.carry])
    ys_t = _spread(dys, fy, [_zero(Array((length,) + a.shape, a.dtype)) for a in ys])
    saved_t = _spread(dcs, fc, [_zero(Array((length,) + a.shape, a.dtype)) for a in lay.carry]) if save else []
    return packed((*carry_t, *ys_t, *saved_t))


def _spread(values: Sequence[Any], at: list[int], base: list[Any]) -> list[Any]:
    """``base`` with ``values`` at the positions ``at`` (the float leaves among all)."""
    out = list(base)
    for k, v in zip(at, values):
        out[k] = v
    return out


def _scan_vjp(c: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool,
              point: tuple, cs: tuple) -> Any:
    p = Point(point, cs, nconst, ncarry, length)
    lay = p.layout
    c = leaves_of(c)
    ys = body_type(body, lay, ncarry)[ncarry:]
    fk, fc, fx, fy = _floats(p.consts), _floats(p.carry), _floats(p.xs), _floats(ys)
    last = [c[k] for k in fc]
    dys = [c[ncarry + k] for k in fy]
    dcs = [c[ncarry + len(ys) + k] for k in fc] if save else []
    dk0 = [np.zeros(np.shape(p.consts[k]), p.consts[k].dtype) for k in fk]
    inner = applied("scan", packed((p.i0, *p.consts, *last, *dk0, *cs, *p.xs, *dys, *dcs)),
                    body=vjp_body(body, lay, nconst, ncarry, save), nconst=nconst,
                    ncarry=len(fc) + len(fk), length=length, reverse=not reverse, save=False)
    out = leaves_of(inner)
    dc0, dk, dx = out[:len(fc)], out[len(fc):len(fc) + len(fk)], out[len(fc) + len(fk):]
    return packed((_zero(lay.i0),
                   *_spread(dk, fk, [_zero(a) for a in lay.consts]),
                   *_spread(dc0, fc, [_zero(a) for a in lay.carry]),
                   *_spread(dx, fx, [_zero(Array((length,) + a.shape, a.dtype)) for a in lay.rows])))


def _point_types(point: tuple) -> Type:
    return packed(tuple(Array(np.shape(p), p.dtype) for p in point))


def _jvp_type(dom: Type, point: tuple, cs: tuple, **params: Any) -> Type:
    return _scan_type(_point_types(point), **params)


def _vjp_type(dom: Type, point: tuple, cs: tuple, **params: Any) -> Type:
    return _point_types(point)


def _jvp_transpose(lin: Any, dom: Any, **params: Any) -> Any:
    cod = leaves_of(_jvp_type(None, **params))
    return lin.linear(TABLE["scan_vjp"], params, packed(a.shape for a in cod))


def _vjp_transpose(lin: Any, dom: Any, **params: Any) -> Any:
    return lin.linear(TABLE["scan_jvp"], params, _shapes(params["point"]))


def _derivative_cost(dom: Type, cod: Type, **params: Any) -> float:
    return 0.0  # priced where the scan it runs is (a derivative's linear maps are not planned)


_LINEAR_PARAMS = {"body": (None, p_term), "nconst": (0, p_int), "ncarry": (0, p_int), "length": (0, p_int),
                  "reverse": (False, p_bool), "save": (False, p_bool), "point": ((), tuple), "cs": ((), tuple)}
register(Rule("scan_jvp", 0, _scan_jvp, _jvp_type, _derivative_cost, transpose=_jvp_transpose,
              params=_LINEAR_PARAMS, public=False, doc="a scan's forward-mode derivative, a scan"))
register(Rule("scan_vjp", 0, _scan_vjp, _vjp_type, _derivative_cost, transpose=_vjp_transpose,
              params=_LINEAR_PARAMS, public=False, doc="the transpose of scan_jvp: a scan the other way"))
