"""Loops and conditionals as primitives of the table: ``scan``, ``while`` and ``cond`` hold their bodies,
terms traced once, and interpret them step by step. They are registered from here, above the interpretations
they run their bodies with (the compiler, the type check, derivative terms), not from :mod:`catterms.prims`.

``scan`` in detail:

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

import builtins
import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from . import numpy as cnp
from .api import evaluate, jvp, vjp
from .caches import cached
from .compiler import program
from .cost import Cost, serial
from .errors import EvaluationError, TermTypeError
from .frontend import compile
from .prims.table import TABLE, Rule, applied, p_bool, p_int, register
from .terms import Term
from .typecheck import cost, infer
from .types import Array, Type, show, type_of
from .vectors import ZERO, component


def p_term(v: Any) -> Any:
    if not isinstance(v, Term):
        raise TypeError("expected a Term")
    return v


def leaves_of(v: Any) -> tuple:
    """A flat tuple's parts; one array is its own only part (a term has no 1-tuples)."""
    return v if isinstance(v, tuple) else (v,)


def packed(vs: Iterable[Any]) -> Any:
    """The inverse of :func:`leaves_of`."""
    vs = tuple(vs)
    return vs[0] if len(vs) == 1 else vs


def _float(a: Any) -> bool:
    return np.dtype(a.dtype).kind == "f"


def _zero(a: Array) -> np.ndarray:
    return np.zeros(a.shape, a.dtype)


def _rows(a: Array, n: int) -> Array:
    """``n`` rows of ``a``: the type of a value stacked over the steps of a loop."""
    return Array((n,) + a.shape, a.dtype)


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
    out = leaves_of(infer(body, lay.body_dom))
    if tuple(out[:ncarry]) != tuple(lay.carry) or not all(isinstance(o, Array) for o in out):
        back = show(packed(out[:ncarry])) if len(out) >= ncarry and ncarry else "nothing"
        raise TermTypeError(f"scan: the body must return its carry as it takes it, {show(packed(lay.carry))}, "
                            f"but returns {back}")
    return out


def _scan_type(dom: Type, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool) -> Type:
    lay = Layout(dom, nconst, ncarry, length)
    ys = body_type(body, lay, ncarry)[ncarry:]
    stacked = [_rows(a, length) for a in ys + (lay.carry if save else ())]
    return packed((*lay.carry, *stacked))


def _scan_cost(dom: Type, cod: Type, body: Any, nconst: int, ncarry: int, length: int, reverse: bool,
               save: bool) -> Any:
    step = cost(body, Layout(dom, nconst, ncarry, length).body_dom)
    return Cost._make(length * v for v in step)  # one step after the other: the span is the work's too


def _scan(x: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool) -> Any:
    parts = leaves_of(x)
    i0, consts = parts[0], parts[1:1 + nconst]
    carry = parts[1 + nconst:1 + nconst + ncarry]
    xs = parts[1 + nconst + ncarry:]
    lay = Layout(type_of(x), nconst, ncarry, length)
    run = program(body, lay.body_dom, "value")
    # each step writes its rows into arrays allocated once: keeping every step's small arrays alive to stack
    # them at the end cost a sixth of a gradient at 10⁶ steps, and its first run the memory they took
    ys = [np.empty(_rows(a, length).shape, a.dtype) for a in body_type(body, lay, ncarry)[ncarry:]]
    cs = [np.empty(_rows(a, length).shape, a.dtype) for a in lay.carry] if save else []
    index = np.arange(length, dtype=lay.i0.dtype) + i0  # index[j, ...] is i₀ + j, a 0-d view: 10 × cheaper
    steps = range(length - 1, -1, -1) if reverse else range(length)
    carry = _stepper(nconst, ncarry, len(xs), len(ys), save)(run, index, steps, consts, carry, xs, ys, cs)
    return packed((*carry, *ys, *cs))


@functools.cache
def _stepper(nconst: int, ncarry: int, nx: int, ny: int, save: bool) -> Callable[..., tuple]:
    """The loop of a scan of this layout as straight-line Python, generated once per layout: every leaf is a
    local, so a step is one call of the body and a view or a row write per leaf (taking the step's tuples
    apart, zipping and packing them in a generic loop cost as much as the body's numpy calls)."""
    k, c, x, y = ([f"{p}{n}" for n in range(m)] for p, m in (("k", nconst), ("c", ncarry), ("x", nx), ("y", ny)))
    rows, saved = [f"r{n}" for n in range(ny)], [f"s{n}" for n in range(ncarry)] if save else []
    args = ["index[j, ...]", *k, *c, *(f"{a}[j]" for a in x)]
    outs = c + y
    src = ["def loop(run, index, steps, consts, carry, xs, ys, cs):"]
    src += [f"    ({', '.join(names)},) = {whole}" for names, whole in
            ((k, "consts"), (c, "carry"), (x, "xs"), (rows, "ys"), (saved, "cs")) if names]
    src += ["    for j in steps:"]
    src += [f"        {s}[j] = {a}" for s, a in zip(saved, c)]
    call = f"run({args[0] if len(args) == 1 else '(' + ', '.join(args) + ')'})"
    src += [f"        {', '.join(outs)} = {call}" if outs else f"        {call}"]
    src += [f"        {r}[j] = {a}" for r, a in zip(rows, y)]
    src += [f"    return ({''.join(a + ', ' for a in c)})"]
    namespace: dict[str, Any] = {}
    code = builtins.compile("\n".join(src), f"<catterms:scan loop {nconst},{ncarry},{nx},{ny},{save}>", "exec")
    exec(code, namespace)
    return namespace["loop"]


def _scan_deriv(lin: Any, x: Any, y: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool,
                save: bool) -> Any:
    point = leaves_of(x)
    lay = Layout(_point_types(point), nconst, ncarry, length)
    if not any(_float(a) for a in point) or not any(_float(a) for a in body_type(body, lay, ncarry)):
        return lin.zero()  # no float input, or no float output: nothing has a derivative
    params = {"body": body, "nconst": nconst, "ncarry": ncarry, "length": length, "reverse": reverse}
    full = y if save else applied("scan", x, **params, save=True)
    cs = leaves_of(full)[len(leaves_of(full)) - ncarry:] if ncarry else ()
    return lin.linear(TABLE["scan_jvp"], {**params, "save": save, "point": point, "cs": tuple(cs)}, _shapes(point))


def _scan_saving(params: dict[str, Any]) -> tuple[dict[str, Any], int] | None:
    """The derivatives read every step's carries: a scan that does not save them saves them there."""
    return None if params["save"] or not params["ncarry"] else ({**params, "save": True}, params["ncarry"])


register(Rule(
    "scan", 0, _scan, _scan_type, _scan_cost, deriv=_scan_deriv, saving=_scan_saving,
    params={"body": (None, p_term), "nconst": (0, p_int), "ncarry": (0, p_int), "length": (0, p_int),
            "reverse": (False, p_bool), "save": (False, p_bool)},
    doc="a loop: body run length times on (index, constants, carries, inputs' rows), ys stacked",
))


# --- the derivative loops --------------------------------------------------------------------------------


def _shapes(parts: Sequence[Any]) -> Any:
    return tuple(np.shape(p) for p in parts)


class Point:
    """The input a scan's linear map was taken at, in the scan's layout."""

    def __init__(self, point: tuple, nconst: int, ncarry: int, length: int) -> None:
        self.i0, self.consts = point[0], point[1:1 + nconst]
        self.carry, self.xs = point[1 + nconst:1 + nconst + ncarry], point[1 + nconst + ncarry:]
        self.layout = Layout(_point_types(point), nconst, ncarry, length)


def _floats(parts: Sequence[Any]) -> list[int]:
    return [k for k, p in enumerate(parts) if _float(p)]


def jvp_body(body: Any, lay: Layout, nconst: int, ncarry: int) -> Any:
    """``(i, k…, dk…, dc…, c…, x…, dx…) ↦ (dc′…, dy…)`` over the float leaves: the body's forward mode as a
    term, the body of ``scan_jvp``'s loop (constants and their tangents constant, the tangents of the
    carries carried, the saved carries and the inputs read row by row)."""
    return loop_body(body, lay.body_dom, nconst, ncarry, "jvp")


def vjp_body(body: Any, lay: Layout, nconst: int, ncarry: int, save: bool) -> Any:
    """``(i, k…, dc…, dk…, c…, x…, dy…[, dcs…]) ↦ (dc_before…, dk + dk_step…, dx…)`` over the float leaves:
    the body's reverse mode as a term, the body of ``scan_vjp``'s loop (``dcs``: the cotangent of the saved
    carry of this step, added to the carry's)."""
    return loop_body(body, lay.body_dom, nconst, ncarry, "vjp_save" if save else "vjp")


def _scan_jvp(t: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool,
              point: tuple, cs: tuple) -> Any:
    p = Point(point, nconst, ncarry, length)
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
    ys_t = _spread(dys, fy, [_zero(_rows(a, length)) for a in ys])
    saved_t = _spread(dcs, fc, [_zero(_rows(a, length)) for a in lay.carry]) if save else []
    return packed((*carry_t, *ys_t, *saved_t))


def _spread(values: Sequence[Any], at: list[int], base: list[Any]) -> list[Any]:
    """``base`` with ``values`` at the positions ``at`` (the float leaves among all)."""
    out = list(base)
    for k, v in zip(at, values):
        out[k] = v
    return out


def _scan_vjp(c: Any, body: Any, nconst: int, ncarry: int, length: int, reverse: bool, save: bool,
              point: tuple, cs: tuple) -> Any:
    p = Point(point, nconst, ncarry, length)
    lay = p.layout
    c = leaves_of(c)
    ys = body_type(body, lay, ncarry)[ncarry:]
    fk, fc, fx, fy = _floats(p.consts), _floats(p.carry), _floats(p.xs), _floats(ys)
    last = [c[k] for k in fc]
    dys = [c[ncarry + k] for k in fy]
    dcs = [c[ncarry + len(ys) + k] for k in fc] if save else []
    dk0 = [_zero(lay.consts[k]) for k in fk]
    inner = applied("scan", packed((p.i0, *p.consts, *last, *dk0, *cs, *p.xs, *dys, *dcs)),
                    body=vjp_body(body, lay, nconst, ncarry, save), nconst=nconst,
                    ncarry=len(fc) + len(fk), length=length, reverse=not reverse, save=False)
    out = leaves_of(inner)
    dc0, dk, dx = out[:len(fc)], out[len(fc):len(fc) + len(fk)], out[len(fc) + len(fk):]
    return packed((_zero(lay.i0),
                   *_spread(dk, fk, [_zero(a) for a in lay.consts]),
                   *_spread(dc0, fc, [_zero(a) for a in lay.carry]),
                   *_spread(dx, fx, [_zero(_rows(a, length)) for a in lay.rows])))


def _point_types(point: tuple) -> Type:
    return packed(tuple(Array(np.shape(p), p.dtype) for p in point))


def _jvp_type(dom: Type | None, point: tuple, cs: tuple, **params: Any) -> Type:
    return _scan_type(_point_types(point), **params)


def _vjp_type(dom: Type | None, point: tuple, cs: tuple, **params: Any) -> Type:
    return _point_types(point)


def onto_output(name: str, out_type: Callable[..., Type]) -> Callable[..., Any]:
    """A forward-mode loop's transpose: the linear primitive ``name`` on the loop's output (``out_type``
    of the parameters), back onto the point's parts."""
    def transpose(lin: Any, dom: Any, **params: Any) -> Any:
        return lin.linear(TABLE[name], params, packed(a.shape for a in leaves_of(out_type(None, **params))))

    return transpose


def onto_point(name: str) -> Callable[..., Any]:
    """A reverse-mode loop's transpose: the linear primitive ``name`` on the point's parts."""
    return lambda lin, dom, **params: lin.linear(TABLE[name], params, _shapes(params["point"]))


def _scan_jvp_transpose(lin: Any, dom: Any, **params: Any) -> Any:
    """``scan_vjp`` on the output of ``scan_jvp``. Where the cotangent of the saved carries is zero (always,
    unless what is differentiated reads them: a derivative of a derivative), the loop back runs as with
    ``save=False``, instead of reading a zero array of every step's carries and adding one row of it per step."""
    full = onto_output("scan_vjp", _jvp_type)(lin, dom, **params)
    if not params["save"]:
        return full
    lean_params = {**params, "save": False}
    lean = onto_output("scan_vjp", _jvp_type)(lin, dom, **lean_params)
    n = len(leaves_of(_jvp_type(None, **lean_params)))  # the carries and the ys, before the saved carries

    def transpose(t: Any) -> Any:
        if t is ZERO or any(component(t, i) is not ZERO for i in range(n, n + params["ncarry"])):
            return full(t)
        return lean(component(t, 0) if n == 1 else tuple(component(t, i) for i in range(n)))

    return transpose


def _derivative_cost(dom: Type, cod: Type, **params: Any) -> float:
    return 0.0  # priced where the scan it runs is (a derivative's linear maps are not planned)


Params = dict[str, tuple[Any, Callable[[Any], Any]]]

_LINEAR_PARAMS: Params = {"body": (None, p_term), "nconst": (0, p_int), "ncarry": (0, p_int), "length": (0, p_int),
                  "reverse": (False, p_bool), "save": (False, p_bool), "point": ((), tuple), "cs": ((), tuple)}
register(Rule("scan_jvp", 0, _scan_jvp, _jvp_type, _derivative_cost, transpose=_scan_jvp_transpose,
              params=_LINEAR_PARAMS, public=False, doc="a scan's forward-mode derivative, a scan"))
register(Rule("scan_vjp", 0, _scan_vjp, _vjp_type, _derivative_cost, transpose=onto_point("scan_jvp"),
              params=_LINEAR_PARAMS, public=False, doc="the transpose of scan_jvp: a scan the other way"))


# --- the conditional --------------------------------------------------------------------------------------


def _branches_type(dom: Type, true: Any, false: Any) -> tuple[Array, tuple[Array, ...]]:
    """The predicate's type and the branches' common result leaves, once both are checked."""
    parts = leaves_of(dom)
    if len(parts) < 2 or not all(isinstance(p, Array) for p in parts):
        raise TermTypeError(f"cond expects a flat tuple (predicate, operands…), got {show(dom)}")
    pred = parts[0]
    if pred.shape != () or np.dtype(pred.dtype) != np.bool_:
        raise TermTypeError(f"cond: the predicate must be a boolean scalar, got {pred} (compare, e.g. x > 0, "
                            "and reduce with cnp.all or cnp.any)")
    ops = packed(parts[1:])
    a, b = infer(true, ops), infer(false, ops)
    if a != b:
        raise TermTypeError(f"cond: the branches must return the same type, but the true branch returns "
                            f"{show(a)} and the false branch {show(b)}")
    return pred, leaves_of(a)


def _cond_type(dom: Type, true: Any, false: Any) -> Type:
    return packed(_branches_type(dom, true, false)[1])


def _cond_cost(dom: Type, cod: Type, true: Any, false: Any) -> Any:
    ops = packed(leaves_of(dom)[1:])
    return max(cost(true, ops), cost(false, ops), key=lambda c: c.work)  # only one runs: the dearer bounds it


def _cond(x: Any, true: Any, false: Any) -> Any:
    parts = leaves_of(x)
    ops = packed(parts[1:])
    branch = true if bool(parts[0]) else false
    return program(branch, type_of(ops), "value")(ops)


def _cond_deriv(lin: Any, x: Any, y: Any, true: Any, false: Any) -> Any:
    point = leaves_of(x)
    if not any(_float(a) for a in point[1:]) or not any(_float(a) for a in leaves_of(y)):
        return lin.zero()
    return lin.linear(TABLE["cond_jvp"], {"true": true, "false": false, "point": point}, _shapes(point))


register(Rule(
    "cond", 0, _cond, _cond_type, _cond_cost, deriv=_cond_deriv,
    params={"true": (None, p_term), "false": (None, p_term)},
    doc="a conditional: the true or the false branch on the operands, whichever the predicate picks",
))


def _cond_jvp(t: Any, true: Any, false: Any, point: tuple) -> Any:
    ops = point[1:]
    dom = _point_types(ops)
    fx = _floats(ops)
    dx = [leaves_of(t)[1 + k] for k in fx]
    outs = _branches_type(_point_types(point), true, false)[1]
    dy = leaves_of(applied("cond", (point[0], *ops, *dx), true=branch_body(true, dom, "jvp"),
                           false=branch_body(false, dom, "jvp")))
    return packed(_spread(dy, _floats(outs), [_zero(a) for a in outs]))


def _cond_vjp(c: Any, true: Any, false: Any, point: tuple) -> Any:
    ops = point[1:]
    dom = _point_types(ops)
    outs = _branches_type(_point_types(point), true, false)[1]
    dy = [leaves_of(c)[k] for k in _floats(outs)]
    dx = leaves_of(applied("cond", (point[0], *ops, *dy), true=branch_body(true, dom, "vjp"),
                           false=branch_body(false, dom, "vjp")))
    types = leaves_of(_point_types(point))
    return packed((_zero(types[0]), *_spread(dx, _floats(ops), [_zero(a) for a in types[1:]])))


def _cond_jvp_type(dom: Type | None, true: Any, false: Any, point: tuple) -> Type:
    return _cond_type(_point_types(point), true, false)


def _cond_vjp_type(dom: Type | None, true: Any, false: Any, point: tuple) -> Type:
    return _point_types(point)


_COND_PARAMS: Params = {"true": (None, p_term), "false": (None, p_term), "point": ((), tuple)}
register(Rule("cond_jvp", 0, _cond_jvp, _cond_jvp_type, _derivative_cost,
              transpose=onto_output("cond_vjp", _cond_jvp_type),
              params=_COND_PARAMS, public=False, doc="a conditional's forward-mode derivative, a conditional"))
register(Rule("cond_vjp", 0, _cond_vjp, _cond_vjp_type, _derivative_cost,
              transpose=onto_point("cond_jvp"),
              params=_COND_PARAMS, public=False, doc="the transpose of cond_jvp: the taken branch's reverse mode"))


# --- the while loop ---------------------------------------------------------------------------------------


def p_opt_int(v: Any) -> int | None:
    return None if v is None else p_int(v)


class WhileLayout:
    """A while loop's input ``(n₀, k…, c…)``: the step counter, constants and carries; the functions' input."""

    def __init__(self, dom: Type, nconst: int) -> None:
        parts = leaves_of(dom)
        if len(parts) < 2 + nconst or not all(isinstance(p, Array) for p in parts):
            raise TermTypeError(f"while expects a flat tuple (step counter, {nconst} constants, carries), got "
                                f"{show(dom)}")
        if parts[0].shape != () or np.dtype(parts[0].dtype).kind != "i":
            raise TermTypeError(f"while: the step counter must be an integer scalar, got {parts[0]}")
        self.n0, self.consts, self.carry = parts[0], parts[1:1 + nconst], parts[1 + nconst:]
        self.fn_dom = packed((*self.consts, *self.carry))


def _while_type(dom: Type, cond: Any, body: Any, nconst: int, max_steps: int | None, save: bool) -> Type:
    lay = WhileLayout(dom, nconst)
    test = infer(cond, lay.fn_dom)
    if not (isinstance(test, Array) and test.shape == () and np.dtype(test.dtype) == np.bool_):
        raise TermTypeError(f"while_loop: the condition must return a boolean scalar, got {show(test)}")
    back = leaves_of(infer(body, lay.fn_dom))
    if tuple(back) != tuple(lay.carry):
        raise TermTypeError(f"while_loop: the body must return the carry as it takes it, "
                            f"{show(packed(lay.carry))}, but returns {show(packed(back))}")
    saved = []
    if save:
        if max_steps is None:
            raise TermTypeError("while: saving the carries needs max_steps")
        saved = [_rows(c, max_steps) for c in lay.carry]
    return packed((lay.n0, *lay.carry, *saved))


def _while_cost(dom: Type, cod: Type, cond: Any, body: Any, nconst: int, max_steps: int | None,
                save: bool) -> Any:
    fn_dom = WhileLayout(dom, nconst).fn_dom
    step = serial(cost(cond, fn_dom), cost(body, fn_dom))
    # the trip count is the data's: priced at its bound, or as one step when there is none
    return Cost._make((max_steps or 1) * v for v in step)


def _while(x: Any, cond: Any, body: Any, nconst: int, max_steps: int | None, save: bool) -> Any:
    parts = leaves_of(x)
    n0, k, c = parts[0], parts[1:1 + nconst], parts[1 + nconst:]
    dom = type_of(packed((*k, *c)))
    test, step = program(cond, dom, "value"), program(body, dom, "value")
    saved, n = [], 0
    while bool(test(packed((*k, *c)))):
        if max_steps is not None and n >= max_steps:
            raise EvaluationError(f"ct.while_loop ran max_steps={max_steps} steps and its condition still holds: "
                                  "raise max_steps, or check that the condition turns false")
        if save:
            saved.append(c)
        c = leaves_of(step(packed((*k, *c))))
        n += 1
    out = [np.asarray(n0 + n), *c]
    if save:
        assert max_steps is not None  # the type check refuses saving without a bound
        for j, leaf in enumerate(c):
            rows = _zero(_rows(Array(np.shape(leaf), leaf.dtype), max_steps))
            if saved:
                rows[:n] = np.stack([s[j] for s in saved])
            out.append(rows)
    return packed(out)


def _while_deriv(lin: Any, x: Any, y: Any, cond: Any, body: Any, nconst: int, max_steps: int | None,
                 save: bool) -> Any:
    point = leaves_of(x)
    if not any(_float(a) for a in point[1:]):  # no float constant or carry: nothing has a derivative
        return lin.zero()
    params = {"cond": cond, "body": body, "nconst": nconst, "max_steps": max_steps, "save": save,
              "point": point, "n": leaves_of(y)[0]}
    return lin.linear(TABLE["while_jvp"], params, _shapes(point))


register(Rule(
    "while", 0, _while, _while_type, _while_cost, deriv=_while_deriv,
    params={"cond": (None, p_term), "body": (None, p_term), "nconst": (0, p_int), "max_steps": (None, p_opt_int),
            "save": (False, p_bool)},
    doc="a loop with a data-dependent stop: body while cond holds, counting the steps",
))


def _while_parts(point: tuple, nconst: int) -> tuple[Any, tuple, tuple, list[int], list[int]]:
    n0, k, c = point[0], point[1:1 + nconst], point[1 + nconst:]
    return n0, k, c, _floats(k), _floats(c)


def _while_jvp(t: Any, cond: Any, body: Any, nconst: int, max_steps: int | None, save: bool, point: tuple,
               n: Any) -> Any:
    n0, k, c, fk, fc = _while_parts(point, nconst)
    t = leaves_of(t)
    dk, dc = [t[1 + j] for j in fk], [t[1 + nconst + j] for j in fc]
    dom = _point_types((*k, *c))
    out = leaves_of(applied("while", packed((n0, *k, *dk, *c, *dc)), cond=while_body(cond, body, dom, nconst, "cond"),
                            body=while_body(cond, body, dom, nconst, "jvp"), nconst=nconst + len(fk),
                            max_steps=max_steps, save=save))
    carry_t = leaves_of(_point_types(c))
    nc, m = len(c), len(fc)
    last = _spread(out[1 + nc:1 + nc + m], fc, [_zero(a) for a in carry_t])
    saved = []
    if save:  # the pair loop saved (c…, dc…) at each step: the tangents of the saved carries are the dc part
        assert max_steps is not None  # the type check refuses saving without a bound
        rows = out[1 + nc + m + nc:1 + nc + m + nc + m]
        saved = _spread(rows, fc, [_zero(_rows(a, max_steps)) for a in carry_t])
    return packed((_zero(Array((), n0.dtype)), *last, *saved))


def _while_vjp(ct: Any, cond: Any, body: Any, nconst: int, max_steps: int | None, save: bool, point: tuple,
               n: Any) -> Any:
    """Reverse mode: the loop again, saving its carries, then a loop back over the steps it took."""
    n0, k, c, fk, fc = _while_parts(point, nconst)
    full = leaves_of(applied("while", packed(point), cond=cond, body=body, nconst=nconst, max_steps=max_steps,
                             save=True))
    nc = len(c)
    cs = full[1 + nc:]
    ct = leaves_of(ct)
    dc = [ct[1 + j] for j in fc]
    dcs = [ct[1 + nc + j] for j in fc] if save else []
    dk0 = [_zero(Array(np.shape(k[j]), k[j].dtype)) for j in fk]
    dom = _point_types((*k, *c))
    back = leaves_of(applied("while", packed((_zero(Array((), n0.dtype)), *k, *cs, *dcs, n - n0, *dc, *dk0)),
                             cond=while_body(cond, body, dom, nconst, "back_cond", save, max_steps or 0),
                             body=while_body(cond, body, dom, nconst, "back", save, max_steps or 0),
                             nconst=nconst + nc + len(dcs), max_steps=max_steps, save=False))
    dc0, dk = back[2:2 + len(fc)], back[2 + len(fc):]
    types = leaves_of(_point_types(point))
    return packed((_zero(types[0]), *_spread(dk, fk, [_zero(a) for a in types[1:1 + nconst]]),
                   *_spread(dc0, fc, [_zero(a) for a in types[1 + nconst:]])))


def _while_jvp_type(dom: Type | None, point: tuple, n: Any, **params: Any) -> Type:
    return _while_type(_point_types(point), **params)


def _while_vjp_type(dom: Type | None, point: tuple, n: Any, **params: Any) -> Type:
    return _point_types(point)


def _while_jvp_transpose(lin: Any, dom: Any, **params: Any) -> Any:
    if params["max_steps"] is None:
        raise TermTypeError("reverse mode through ct.while_loop needs max_steps, a bound on the steps it may "
                            "take, to keep its carries for the way back: ct.while_loop(cond, body, init, "
                            "max_steps=...) (forward mode, ct.jvp, needs none)")
    return onto_output("while_vjp", _while_jvp_type)(lin, dom, **params)


_WHILE_PARAMS: Params = {"cond": (None, p_term), "body": (None, p_term), "nconst": (0, p_int),
                 "max_steps": (None, p_opt_int), "save": (False, p_bool), "point": ((), tuple),
                 "n": (None, lambda v: v)}
register(Rule("while_jvp", 0, _while_jvp, _while_jvp_type, _derivative_cost, transpose=_while_jvp_transpose,
              params=_WHILE_PARAMS, public=False, doc="a while loop's forward mode: the loop of (carry, tangent)"))
register(Rule("while_vjp", 0, _while_vjp, _while_vjp_type, _derivative_cost,
              transpose=onto_point("while_jvp"),
              params=_WHILE_PARAMS, public=False, doc="the transpose of while_jvp: a loop back over the saved steps"))


# --- the derivative loops' bodies, as derivative terms over flat leaves -----------------------------------


@cached(entries=256)
def loop_body(body: Term, dom: Type, nconst: int, ncarry: int, how: str) -> Term:
    """The body of a scan's derivative loop, a derivative term over flat leaves, for the body ``body`` of
    a scan on inputs ``dom = (i, k…, c…, x…)``. ``how``: ``jvp`` —
    ``(i, k…, dk…, dc…, c…, x…, dx…) ↦ (dc′…, dy…)``; ``vjp`` — ``(i, k…, dc′…, dk…, c…, x…, dy…) ↦ (dc…,
    dk + dkₛ…, dx…)``, the cotangent of the constants summed over the steps; ``vjp_save`` — the same with
    the cotangents of the saved carries last, added to the carries'. Only float leaves have tangents."""
    parts = leaves_of(dom)
    i, k, c, x = parts[0], parts[1:1 + nconst], parts[1 + nconst:1 + nconst + ncarry], parts[1 + nconst + ncarry:]
    ys = leaves_of(infer(body, dom))[ncarry:]
    fk, fc, fx, fy = (_floats(p) for p in (k, c, x, ys))

    if how == "jvp":
        types = (i, *k, *_at(k, fk), *_at(c, fc), *c, *x, *_at(x, fx))

        def step(*args: Any) -> Any:
            i_, k_, dk, dc, c_, x_, dx = cuts(args, [1, len(k), len(fk), len(fc), len(c), len(x), len(fx)])
            tangent = (None, *_spread(dk, fk, [None] * len(k)), *_spread(dc, fc, [None] * len(c)),
                       *_spread(dx, fx, [None] * len(x)))
            d = leaves_of(jvp(body, packed((*i_, *k_, *c_, *x_)), packed(tangent))[1])
            return packed([d[j] for j in fc] + [d[ncarry + j] for j in fy])
    else:
        save = how == "vjp_save"
        types = (i, *k, *_at(c, fc), *_at(k, fk), *c, *x, *_at(ys, fy), *(_at(c, fc) if save else ()))

        def step(*args: Any) -> Any:
            i_, k_, dc, dk, c_, x_, dy, dcs = cuts(args, [1, len(k), len(fc), len(fk), len(c), len(x), len(fy),
                                                          len(fc) if save else 0])
            cot = packed(_spread(dc, fc, [None] * len(c)) + _spread(dy, fy, [None] * len(ys)))
            g = leaves_of(vjp(body, packed((*i_, *k_, *c_, *x_)), cot)[1])
            before = [g[1 + nconst + j] + (dcs[m] if save else 0.0) for m, j in enumerate(fc)]
            consts = [dk[m] + g[1 + j] for m, j in enumerate(fk)]
            return packed(before + consts + [g[1 + nconst + ncarry + j] for j in fx])

    return compile(step, *types)


@cached(entries=256)
def branch_body(branch: Term, dom: Type, how: str) -> Term:
    """A conditional's branch differentiated, as a term over flat leaves:
    ``jvp`` — ``(x…, dx…) ↦ dy…``; ``vjp`` — ``(x…, dy…) ↦ dx…``; over the float leaves only."""
    xs, ys = leaves_of(dom), leaves_of(infer(branch, dom))
    fx, fy = _floats(xs), _floats(ys)
    n = len(xs)
    if how == "jvp":
        def step(*args: Any) -> Any:
            d = leaves_of(jvp(branch, packed(args[:n]), packed(_spread(args[n:], fx, [None] * n)))[1])
            return packed([d[j] for j in fy])

        return compile(step, *xs, *_at(xs, fx))

    def back(*args: Any) -> Any:
        g = leaves_of(vjp(branch, packed(args[:n]), packed(_spread(args[n:], fy, [None] * len(ys))))[1])
        return packed([g[j] for j in fx])

    return compile(back, *xs, *_at(ys, fy))


@cached(entries=256)
def while_body(cond: Term, body: Term, dom: Type, nconst: int, how: str, save: bool = False,
               max_steps: int = 0) -> Term:
    """The condition or body of a while loop's derivative loop, for a loop
    whose functions take ``dom = (k…, c…)``. Forward mode loops over the pair (carry, tangent): ``cond``
    and ``jvp`` take ``(k…, dk…, c…, dc…)``, give the condition of ``(k, c)`` and ``(c′…, dc′…)``. Reverse
    mode loops back over the saved carries ``cs`` (rows ``j - 1``, ``j - 2``, …): ``back_cond`` and ``back``
    take ``(k…, cs…[, dcs…], j, dc…, dk…)``, give ``j > 0`` and ``(j - 1, dc_before…, dk + dkₛ…)``; ``cs``
    has ``max_steps`` rows; ``dcs`` (``save``) are the cotangents of the saved carries, added at their step.
    Float leaves only."""
    parts = leaves_of(dom)
    k, c = parts[:nconst], parts[nconst:]
    fk, fc = _floats(k), _floats(c)
    if how in ("cond", "jvp"):
        def pair(*args: Any) -> Any:
            k_, dk, c_, dc = cuts(args, [len(k), len(fk), len(c), len(fc)])
            x = packed((*k_, *c_))
            if how == "cond":
                return evaluate(cond, x)
            y, d = jvp(body, x, packed(_spread(dk, fk, [None] * len(k)) + _spread(dc, fc, [None] * len(c))))
            return packed((*leaves_of(y), *(leaves_of(d)[j] for j in fc)))

        return compile(pair, *k, *_at(k, fk), *c, *_at(c, fc))
    def back(*args: Any) -> Any:
        k_, cs, dcs, (j,), dc, dk = cuts(args, [len(k), len(c), len(fc) if save else 0, 1, len(fc), len(fk)])
        if how == "back_cond":
            return j > 0
        r = j - 1
        at = [cnp.take(a, r, axis=0) for a in cs]
        g = leaves_of(vjp(body, packed((*k_, *at)), packed(_spread(dc, fc, [None] * len(c))))[1])
        before = [g[nconst + i] + (cnp.take(dcs[m], r, axis=0) if save else 0.0) for m, i in enumerate(fc)]
        return packed((r, *before, *(dk[m] + g[i] for m, i in enumerate(fk))))

    saved = [_rows(a, max_steps) for a in c]
    return compile(back, *k, *saved, *(_at(tuple(saved), fc) if save else ()), Array((), "int64"), *_at(c, fc),
                   *_at(k, fk))


def cuts(args: tuple, sizes: list[int]) -> list[tuple]:
    """``args`` cut into consecutive pieces of these sizes."""
    out, at = [], 0
    for n in sizes:
        out.append(args[at:at + n])
        at += n
    return out


def _at(parts: tuple, at: list[int]) -> tuple:
    return tuple(parts[j] for j in at)


def loop_steps(term: Term) -> int:
    """How many steps the ``scan`` loops of ``term`` run (``ct.scan``, ``ct.fori_loop``), each step of a loop
    counting the steps of the loops in its body; a ``while`` loop's steps depend on the data and are not
    counted (reports list the loops for what they are)."""
    total = 0
    for node in term.nodes():
        if node.op == "prim" and node.data[0] in ("scan", "while", "cond"):
            params = dict(node.data[1])
            inner = sum(loop_steps(v) for v in params.values() if isinstance(v, Term))
            total += params["length"] * (1 + inner) if node.data[0] == "scan" else inner
    return total
