"""Pretty-printing: the functor from terms to strings in the paper's point-free notation.

``∘`` binds tighter than ``△``, ``×`` and ``▽`` (Haskell's ``.`` is infixr 9, ``&&&``/``***`` infixr 3),
so the paper's ``cosSinProd`` renders as ``(cos △ sin) ∘ mul`` and ``magSqr`` as
``add ∘ (mul ∘ (exl △ exl) △ mul ∘ (exr △ exr))``.

Each node's text is a rope (a string, or a tuple of ropes) joined once at the end, without recursion:
joining strings at every level would copy the text once per level of nesting, quadratic in depth.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from .types import Array

from .category import Category, interpret
from .prims import Rule
from .terms import Term

Rope = Union[str, tuple]
Doc = tuple[Rope, int]  # (text, precedence)

ATOM, COMPOSE, PRODUCT = 10, 9, 3


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
    from .prims import TABLE

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


def _wrap(doc: Doc, above: int) -> Rope:
    text, prec = doc
    return ("(", text, ")") if prec <= above else text


def _joined(sep: str, ropes: Sequence[Rope]) -> Rope:
    parts: list[Rope] = []
    for r in ropes:
        parts += [sep, r] if parts else [r]
    return tuple(parts)


def _text(rope: Rope) -> str:
    out: list[str] = []
    stack = [rope]
    while stack:
        r = stack.pop()
        if isinstance(r, str):
            out.append(r)
        else:
            stack.extend(reversed(r))
    return "".join(out)


class Pretty(Category[Doc]):
    """Terms as point-free text."""

    def id(self) -> Doc:
        return "id", ATOM

    def compose(self, fs: Sequence[Doc]) -> Doc:
        return _joined(" ∘ ", [_wrap(f, COMPOSE - 1) for f in reversed(fs)]), COMPOSE

    def _product(self, op: str, fs: Sequence[Doc]) -> Doc:
        return _joined(f" {op} ", [_wrap(f, PRODUCT) for f in fs]), PRODUCT

    def cross(self, fs: Sequence[Doc]) -> Doc:
        return self._product("×", fs)

    def fork(self, fs: Sequence[Doc]) -> Doc:
        return self._product("△", fs)

    def join(self, fs: Sequence[Doc]) -> Doc:
        return self._product("▽", fs)

    def proj(self, i: int, n: int) -> Doc:
        return ("exl" if i == 0 else "exr") if n == 2 else f"ex[{i}/{n}]", ATOM

    def dup(self, n: int) -> Doc:
        return "dup" if n == 2 else f"dup[{n}]", ATOM

    def jam(self, n: int) -> Doc:
        return "jam" if n == 2 else f"jam[{n}]", ATOM

    def inj(self, i: int, n: int, like: tuple | None) -> Doc:
        return ("inl" if i == 0 else "inr") if n == 2 else f"in[{i}/{n}]", ATOM

    def prim(self, rule: Rule, params: dict[str, Any]) -> Doc:
        return prim_text(rule.name, params), ATOM

    def const(self, value: Any) -> Doc:
        return const_text(value), ATOM


PRETTY = Pretty()


def pretty(term: Term) -> str:
    """The term in point-free notation, e.g. ``(cos △ sin) ∘ mul``."""
    return _text(interpret(term, PRETTY)[0])


def pretty_node(node: Term) -> str:
    """A node's own label, without its children (for error messages and task names)."""
    if node.op in ("compose", "cross", "fork", "join"):
        return node.op
    if node.op == "prim":
        return prim_text(node.data[0], dict(node.data[1]))
    if node.op == "const":
        return const_text(node.value)
    return pretty(node)
