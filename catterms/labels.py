"""Labels of single term nodes — ``sin``, ``sum[axis=0]``, ``exl``, ``const f64[3]`` — for error messages,
task names and the point-free rendering (:mod:`catterms.pretty` builds whole terms from the same texts).

Below the interpretations: :mod:`catterms.category` names the nodes of its locations with these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .prims import TABLE
from .terms import Term
from .types import Array


def label(node: Term) -> str:
    """A node's own name, without its children: ``sin``, ``sum[axis=0]``, ``exl``, ``const f64[3]``."""
    op, data = node.op, node.data
    if op == "prim":
        return prim_text(data[0], dict(data[1]))
    if op == "const":
        return const_text(node.value)
    if op == "proj":
        return proj_text(*data)
    if op == "inj":
        return inj_text(data[0], data[1])
    if op == "dup":
        return dup_text(*data)
    if op == "jam":
        return jam_text(*data)
    return op  # id, compose, cross, fork, join


def proj_text(i: int, n: int) -> str:
    return ("exl" if i == 0 else "exr") if n == 2 else f"ex[{i}/{n}]"


def inj_text(i: int, n: int) -> str:
    return ("inl" if i == 0 else "inr") if n == 2 else f"in[{i}/{n}]"


def dup_text(n: int) -> str:
    return "dup" if n == 2 else f"dup[{n}]"


def jam_text(n: int) -> str:
    return "jam" if n == 2 else f"jam[{n}]"


def _index_text(idx: tuple) -> str:
    def one(it: tuple) -> str:
        tag = it[0]
        if tag == "i":
            return str(it[1])
        if tag == "s":
            start, stop, step = ("" if v is None else str(v) for v in it[1:])
            return f"{start}:{stop}" + (f":{step}" if step else "")
        if tag == "n":
            return "None"
        if tag == "e":
            return "..."
        if tag == "t":
            return "⟨i⟩"  # a traced index, the next operand
        if len(it) == 2:
            return str(list(it[1]))
        shape, flat = it[1], it[2]
        if tag == "a" and len(flat) <= 6:
            return str(np.array(flat, dtype=np.int64).reshape(shape).tolist())
        return f"{'int' if tag == 'a' else 'mask'}[{'×'.join(map(str, shape))}]"

    return ", ".join(one(it) for it in idx)


def prim_text(name: str, params: dict[str, Any]) -> str:
    """``sin``, ``sum[axis=0]``, ``index[1:]``, ``scale 2.0``."""
    if name == "scale":
        return f"scale {params['s']!r}"
    if name in ("index", "gather"):
        return f"{name}[{_index_text(params['idx'])}]"
    if name == "update":
        return f"at[{_index_text(params['idx'])}].{params['how']}"
    defaults = {k: d for k, (d, _) in TABLE[name].params.items()}
    shown = [f"{k}={v!r}" for k, v in params.items() if v != defaults.get(k)]
    return name + (f"[{', '.join(shown)}]" if shown else "")


def const_text(value: np.ndarray) -> str:
    if value.ndim == 0:
        return f"const {value.item()!r}"
    return f"const {Array(value.shape, value.dtype)}"
