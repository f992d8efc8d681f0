"""The wire format: round trips, sharing, scale, every hostile message, a fuzz run, and values.

Oracles: term equality and hashing after a round trip, the decoded term's values against the original's
and against numpy, the node table against ``Term.nodes()``; for hostile input, the one documented
exception with the offending node in its message.
"""

from __future__ import annotations

import math
import pickle
import random
import re
import time
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import term_and_input

import catterms as ct
from catterms import terms as T
from catterms import wire
from catterms.errors import WireFormatError
from catterms.types import Array, as_value, type_of
from catterms.wire import Limits, decode_value, dumps, dumps_value, encode_value, loads, loads_value

SIN = ["prim", [], "sin", {}]
COS = ["prim", [], "cos", {}]
F64 = np.dtype("<f8")

sqr = T.compose(T.prim("mul"), T.fork(T.identity, T.identity))
magSqr = T.compose(T.prim("add"), T.fork(T.compose(T.prim("mul"), T.fork(T.exl, T.exl)),
                                         T.compose(T.prim("mul"), T.fork(T.exr, T.exr))))
cosSinProd = T.compose(T.fork(T.prim("cos"), T.prim("sin")), T.prim("mul"))


def table(term: T.Term) -> list[Any]:
    return msgpack.unpackb(dumps(term))["nodes"]


def message(*nodes: Any, **envelope: Any) -> bytes:
    return msgpack.packb({"format": "catterms/term", "version": 1, "nodes": list(nodes), **envelope},
                         use_bin_type=True)


def const_node(arr: np.ndarray, dtype: str = "float64", shape: Any = None) -> list[Any]:
    return ["const", [], dtype, list(arr.shape) if shape is None else shape, arr.astype(F64).tobytes()]


def refused(data: Any, where: str, limits: Limits | None = None) -> WireFormatError:
    """``loads`` raises the wire-format error, and its message starts by naming ``where``."""
    with pytest.raises(WireFormatError) as info:
        loads(data, limits)
    assert str(info.value).startswith(where), str(info.value)
    return info.value


def same_values(a: Any, b: Any) -> None:
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            same_values(x, y)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


# --- round trips ----------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(term_and_input())
def test_random_terms_round_trip(term_x: tuple[T.Term, Any]) -> None:
    term, x = term_x
    back = loads(dumps(term))
    assert back == term and hash(back) == hash(term)
    assert len(table(term)) == len(list(term.nodes()))
    assert pickle.loads(pickle.dumps(term)) == term
    with np.errstate(all="ignore"):
        same_values(ct.evaluate(back, x), ct.evaluate(term, x))


@pytest.mark.parametrize("term, text, x", [
    (sqr, "mul ∘ (id △ id)", 3.0),
    (magSqr, "add ∘ (mul ∘ (exl △ exl) △ mul ∘ (exr △ exr))", (3.0, 4.0)),
    (cosSinProd, "(cos △ sin) ∘ mul", (0.5, 2.0)),
])
def test_paper_examples_round_trip(term: T.Term, text: str, x: Any) -> None:
    back = loads(dumps(term))
    assert back == term and ct.pretty(back) == text
    same_values(ct.evaluate(back, x), ct.evaluate(term, x))
    same_values(ct.grad(back, x) if text != "(cos △ sin) ∘ mul" else ct.vjp(back, x, (1.0, 1.0))[1],
                ct.grad(term, x) if text != "(cos △ sin) ∘ mul" else ct.vjp(term, x, (1.0, 1.0))[1])


def test_magsqr_decoded_matches_numpy() -> None:
    back = loads(dumps(magSqr))
    assert float(ct.evaluate(back, (3.0, 4.0))) == 25.0
    np.testing.assert_allclose(ct.grad(back, (3.0, 4.0)), (6.0, 8.0))


@pytest.mark.parametrize("value, dtype", [
    (np.float32(1.5), "float32"), (np.arange(6, dtype=np.float32).reshape(2, 3), "float32"),
    (np.float64(-0.0), "float64"), (np.zeros((0, 4)), "float64"), (np.array([np.nan, np.inf, -1e300]), "float64"),
])
def test_consts_keep_dtype_shape_and_bits(value: Any, dtype: str) -> None:
    term = T.const(value, dtype=dtype)
    back = loads(dumps(term))
    assert back == term and hash(back) == hash(term)
    assert back.value.dtype == np.dtype(dtype) and back.value.shape == np.shape(value)
    assert back.value.tobytes() == term.value.tobytes() and not back.value.flags.writeable


def test_const_bytes_are_little_endian() -> None:
    node = table(T.const(np.array([1.0, 2.0])))[0]
    assert node[:4] == ["const", [], "float64", [2]] and node[4] == np.array([1.0, 2.0], "<f8").tobytes()


@pytest.mark.parametrize("idx", [
    1, -1, slice(1, None), slice(None, None, -1), (slice(0, 2), 1), (None, Ellipsis), (Ellipsis, 0),
    [2, 0, 1], (slice(None), [1, 1]), (), (None, slice(1, 3, 2), Ellipsis),
])
def test_index_params_round_trip(idx: Any) -> None:
    term = T.prim("index", idx=idx)
    back = loads(dumps(term))
    assert back == term
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(ct.evaluate(back, x), x[idx])


@pytest.mark.parametrize("term", [
    T.inj(1, 3, (Array((2,)), Array((), "float32"), (Array((3, 1)), Array((0,))))),
    T.inl, T.inj(2, 3), T.proj(2, 3), T.dupn(4), T.jamn(3),
    T.cross(T.prim("sin"), T.identity, T.prim("sum", axis=(0, 1), keepdims=True)),
    T.join(T.prim("neg"), T.scale(2.5), T.prim("pow", p=3.0)),
    T.fork(T.prim("logsumexp", axis=-1), T.prim("reshape", shape=(-1,)), T.prim("transpose", axes=(1, 0))),
    T.compose(T.prim("concatenate", axis=1), T.fork(T.identity, T.prim("broadcast_to", shape=(2, 3)))),
    T.compose(T.prim("stack", axis=0), T.fork(T.identity, T.identity, T.identity)),
    T.Term("compose", (), (T.identity, T.Term("compose", (), (T.prim("sin"), T.prim("cos"))))),
])
def test_every_combinator_round_trips_exactly(term: T.Term) -> None:
    back = loads(dumps(term))
    assert back == term and hash(back) == hash(term) and back.data == term.data


def test_shared_subterm_is_sent_once_and_stays_shared() -> None:
    big = T.compose(*[T.prim("sin") for _ in range(50)])
    term = T.fork(big, T.compose(T.prim("cos"), big), big)  # the middle compose flattens: it shares big's sins
    nodes = table(term)
    assert len(nodes) == len(list(term.nodes())) == 50 + 1 + 1 + 1 + 1
    back = loads(dumps(term))
    assert back == term and back.args[0] is back.args[2]
    assert all(a is b for a, b in zip(back.args[1].args, back.args[0].args))


# --- scale ----------------------------------------------------------------------------------------------


def test_chain_of_10000_primitives_decodes_evaluates_and_differentiates() -> None:
    chain = T.compose(*[T.prim("sin") for _ in range(10_000)])
    back = loads(dumps(chain))
    assert back == chain and len(back.args) == 10_000
    x, slope = 1.2, 1.0
    for _ in range(10_000):  # the oracle: the chain rule by hand
        slope *= math.cos(x)
        x = math.sin(x)
    assert float(ct.evaluate(back, 1.2)) == pytest.approx(x, rel=1e-12)
    assert float(ct.grad(back, 1.2)) == pytest.approx(slope, rel=1e-9)


def test_term_of_100000_nodes_round_trips() -> None:
    wide = T.fork(*[T.compose(T.prim("sin"), T.scale(float(i)), T.prim("cos")) for i in range(25_000)])
    assert len(list(wide.nodes())) == 100_001
    back = loads(dumps(wide))
    assert back == wide and hash(back) == hash(wide)
    y = ct.evaluate(back, 0.3)
    assert len(y) == 25_000 and float(y[7]) == pytest.approx(math.sin(7 * math.cos(0.3)))


def nested(levels: int) -> T.Term:
    """A term of depth ``2 * levels + 1`` that computes ``sin``: ``exl ∘ (… △ id)`` nested."""
    t = T.prim("sin")
    for _ in range(levels):
        t = T.compose(T.exl, T.fork(t, T.identity))
    return t


def test_deep_term_round_trips_and_pickles_up_to_the_depth_limit() -> None:
    deep = nested(4_999)
    assert deep.depth == Limits().max_depth - 1
    back = loads(dumps(deep))
    assert back == deep and pickle.loads(pickle.dumps(deep)) == deep
    assert float(ct.evaluate(back, 0.5)) == pytest.approx(math.sin(0.5))
    assert float(ct.grad(back, 0.5)) == pytest.approx(math.cos(0.5))


def test_depth_over_the_limit_is_refused() -> None:
    refused(dumps(nested(5_000)), "node 10002 (compose): term depth 10001 exceeds Limits.max_depth=10000")
    refused(dumps(nested(30)), "node 52 (compose): term depth 51 exceeds Limits.max_depth=50", Limits(max_depth=50))


def test_exponential_dag_is_refused_by_tree_size() -> None:
    nodes = [SIN] + [["compose", [k, k]] for k in range(100)]
    err = refused(message(*nodes), "node 23 (compose): term size 16777215")  # 2²⁴ - 1 > 10⁷
    assert "max_size" in str(err)


# --- hostile messages -----------------------------------------------------------------------------------

DUP_KEYS = b"\x83" + b"".join(msgpack.packb(x) for x in ("format", "catterms/term", "format", "x", "version", 1))
PRIM_LIMITED = Limits(max_str_len=8)

HOSTILE = [
    # (case, message, start of the error, limits)
    ("not bytes", "abc", "message: expected bytes", None),
    ("empty", b"", "message: not a valid msgpack", None),
    ("garbage", b"\xc1\xff\x00", "message: not a valid msgpack", None),
    ("truncated", message(SIN)[:-3], "message: not a valid msgpack", None),
    ("trailing bytes", message(SIN) + b"\x00", "message: not a valid msgpack", None),
    ("duplicate key", DUP_KEYS, "message: a map repeats a key", None),
    ("over max_containers", message(SIN, ["fork", [0, 0]], ["fork", [1, 1]]), "message: more arrays and maps",
     Limits(max_containers=6)),
    ("ext type", msgpack.packb(msgpack.ExtType(1, b"x")), "message: not a valid msgpack", None),
    ("not a map", msgpack.packb([1, 2]), "message: expected a map", None),
    ("wrong format", msgpack.packb({"format": "pickle", "version": 1, "nodes": [SIN]}), "message: format", None),
    ("value message", dumps_value(1.0), "message: format is 'catterms/value'", None),
    ("version 3", message(SIN, version=3), "message: unsupported version 3", None),
    ("version bool", message(SIN, version=True), "message: unsupported version True", None),
    ("version missing", msgpack.packb({"format": "catterms/term", "nodes": [SIN]}), "message: unsupported", None),
    ("extra field", message(SIN, root=0), "message: unexpected field 'root'", None),
    ("missing nodes", msgpack.packb({"format": "catterms/term", "version": 1}), "message: missing field", None),
    ("no nodes", message(), "message: nodes must be a non-empty array", None),
    ("nodes not array", message(nodes=5), "message: nodes must be a non-empty array", None),
    ("node not array", message(SIN, {"op": "sin"}), "node 1 (?): a node is an array", None),
    ("node too short", message(["id"]), "node 0 (id): a node is an array", None),
    ("unknown op", message(["matmul", []]), "node 0 (matmul): unknown op 'matmul'", None),
    ("op not string", message([7, []]), "node 0 (?): unknown op 7", None),
    ("unknown primitive", message(["prim", [], "nope", {}]), "node 0 (prim nope): unknown primitive", None),
    ("private scatter", message(["prim", [], "scatter", {"idx": [], "shape": [2]}]),
     "node 0 (prim scatter): unknown primitive 'scatter'", None),
    ("private matmul_left", message(["prim", [], "matmul_left", {}]), "node 0 (prim matmul_left): unknown", None),
    ("primitive not string", message(["prim", [], 3, {}]), "node 0 (prim): unknown primitive 3", None),
    ("bad param value", message(["prim", [], "sum", {"axis": "x"}]), "node 0 (prim sum): primitive sum: bad axis",
     None),
    ("unknown param", message(["prim", [], "sin", {"p": 2}]), "node 0 (prim sin): primitive sin has no parameter",
     None),
    ("params not map", message(["prim", [], "sin", []]), "node 0 (prim sin): params must be a map", None),
    ("param binary", message(["prim", [], "pow", {"p": b"2"}]), "node 0 (prim pow): a parameter value must", None),
    ("param nan", message(["prim", [], "pow", {"p": float("nan")}]), "node 0 (prim pow): parameter value nan", None),
    ("param inf", message(["prim", [], "scale", {"s": -math.inf}]), "node 0 (prim scale): parameter value -inf",
     None),
    ("param too nested", message(["prim", [], "index", {"idx": [[[[[[1]]]]]]}]), "node 0 (prim index): parameter",
     Limits(max_nesting=4)),
    ("malformed index tag", message(["prim", [], "index", {"idx": [["s", 1, 2, 0]]}]), "node 0 (prim index): ",
     None),
    ("param key named like the builder's", message(["prim", [], "sin", {"name": 1}]), "node 0 (prim sin): ", None),
    ("compose of one", message(SIN, ["compose", [0]]), "node 1 (compose): compose needs at least 2 children", None),
    ("fork of none", message(["fork", []]), "node 0 (fork): fork needs at least 2 children", None),
    ("cross data field", message(SIN, ["cross", [0, 0], 1]), "node 1 (cross): cross takes 0 data fields", None),
    ("id with children", message(SIN, ["id", [0]]), "node 1 (id): id takes no children", None),
    ("prim with children", message(SIN, ["prim", [0], "cos", {}]), "node 1 (prim cos): prim takes no children",
     None),
    ("children not array", message(SIN, ["fork", 0]), "node 1 (fork): children must be an array", None),
    ("proj i >= n", message(["proj", [], 2, 2]), "node 0 (proj): proj needs 0 <= i < n", None),
    ("proj negative i", message(["proj", [], -1, 2]), "node 0 (proj): proj needs 0 <= i < n", None),
    ("proj missing n", message(["proj", [], 0]), "node 0 (proj): proj takes 2 data fields, got 1", None),
    ("dup of one", message(["dup", [], 1]), "node 0 (dup): dup needs n >= 2", None),
    ("jam bool", message(["jam", [], True]), "node 0 (jam): n must be an integer, got a boolean", None),
    ("dup huge", message(["dup", [], 2**40]), "node 0 (dup): n=1099511627776 exceeds Limits.max_arity", None),
    ("inj float i", message(["inj", [], 0.0, 2, None]), "node 0 (inj): i must be an integer, got a float", None),
    ("inj like wrong length", message(["inj", [], 0, 3, [{"dtype": "float64", "shape": []}] * 2]),
     "node 0 (inj): inj's like must be a 3-tuple type", None),
    ("inj like not a type", message(["inj", [], 0, 2, 5]), "node 0 (inj): array type: expected a map", None),
    ("inj like bad dtype", message(["inj", [], 0, 2, [{"dtype": "int8", "shape": []}] * 2]),
     "node 0 (inj): unsupported dtype 'int8'", None),
    ("inj like too nested", message(["inj", [], 0, 2, [[[[{"dtype": "float64", "shape": []}]]]] * 2]),
     "node 0 (inj): type nests deeper", Limits(max_nesting=3)),
    ("forward reference", message(["fork", [1, 1]], SIN), "node 0 (fork): child 1 is a forward reference", None),
    ("self reference", message(SIN, ["fork", [0, 1]]), "node 1 (fork): a child refers to the node itself", None),
    ("out of range", message(SIN, ["fork", [0, 9]]), "node 1 (fork): child 9 is out of range", None),
    ("negative reference", message(SIN, ["fork", [0, -1]]), "node 1 (fork): child -1 is out of range", None),
    ("bool reference", message(SIN, ["fork", [0, False]]), "node 1 (fork): a child index must be an integer",
     None),
    ("float reference", message(SIN, ["fork", [0, 0.0]]), "node 1 (fork): a child index must be an integer",
     None),
    ("unused node", message(SIN, COS, ["fork", [1, 1]]), "node 0 (prim sin): not used by the root", None),
    ("int16 const", message(["const", [], "int16", [1], b"\0" * 2]), "node 0 (const): unsupported dtype 'int16'",
     None),
    ("complex const", message(["const", [], "complex128", [1], b"\0" * 16]), "node 0 (const): unsupported dtype",
     None),
    ("object const", message(["const", [], "object", [1], b"\0" * 8]), "node 0 (const): unsupported dtype", None),
    ("numpy-style dtype", message(["const", [], "<f8", [1], b"\0" * 8]), "node 0 (const): unsupported dtype", None),
    ("short data", message(const_node(np.zeros(3), shape=[4])), "node 0 (const): 24 bytes do not hold", None),
    ("long data", message(const_node(np.zeros(3), shape=[2])), "node 0 (const): 24 bytes do not hold", None),
    ("float32 size mismatch", message(const_node(np.zeros(3), "float32")), "node 0 (const): 24 bytes do not hold",
     None),
    ("negative size", message(const_node(np.zeros(0), shape=[-1])), "node 0 (const): negative size -1", None),
    ("float size", message(const_node(np.zeros(1), shape=[1.0])), "node 0 (const): a size must be an integer",
     None),
    ("shape not array", message(const_node(np.zeros(1), shape=1)), "node 0 (const): shape must be an array", None),
    ("data not binary", message(["const", [], "float64", [1], "12345678"]), "node 0 (const): array data must be",
     None),
    ("const missing data", message(["const", [], "float64", [0]]), "node 0 (const): const takes 3 data fields",
     None),
    ("huge dims, no data", message(const_node(np.zeros(0), shape=[0, 2**62])), "node 0 (const): size", None),
    ("over max_bytes", message(const_node(np.zeros(100))), "message: 8", Limits(max_bytes=800)),
    ("over max_nodes", message(SIN, COS, ["fork", [0, 1]]), "message: 3 nodes exceed Limits.max_nodes=2",
     Limits(max_nodes=2)),
    ("over max_arity", message(SIN, ["fork", [0, 0, 0]]), "node 1 (fork): 3 children exceed Limits.max_arity=2",
     Limits(max_arity=2, max_nodes=8)),
    ("over max_rank", message(const_node(np.zeros((1,) * 4))), "node 0 (const): rank 4 exceeds", Limits(max_rank=3)),
    ("over max_array_elements", message(const_node(np.zeros(11))), "node 0 (const): size 11 exceeds",
     Limits(max_array_elements=10)),
    ("over total elements", message(const_node(np.zeros(6)), const_node(np.zeros(6)), ["fork", [0, 1]]),
     "node 1 (const): the message's arrays hold more than", Limits(max_array_elements=10)),
    ("over max_str_len", message(["prim", [], "logsumexp", {}]), "message: not a valid msgpack", PRIM_LIMITED),
    ("over max_size", message(SIN, ["fork", [0, 0]], ["fork", [1, 1]]), "node 2 (fork): term size 7",
     Limits(max_size=6)),
]


@pytest.mark.parametrize("case, data, where, limits", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_message_is_refused_naming_the_node(case: str, data: Any, where: str, limits: Limits | None) -> None:
    refused(data, where, limits)


def test_builder_errors_are_wrapped_with_their_cause() -> None:
    err = refused(message(["proj", [], 3, 2]), "node 0 (proj)")
    assert isinstance(err.__cause__, TypeError)
    err = refused(message(["prim", [], "sum", {"keepdims": 1}]), "node 0 (prim sum)")
    assert isinstance(err.__cause__, ct.TermTypeError)


def test_wire_format_error_is_a_catterms_and_value_error() -> None:
    err = refused(b"\x00", "message")
    assert isinstance(err, ct.CattermsError) and isinstance(err, ValueError)


def test_limits_are_validated_and_overridable() -> None:
    with pytest.raises(WireFormatError, match="Limits.max_nodes"):
        Limits(max_nodes=0)
    with pytest.raises(WireFormatError, match="Limits.max_depth"):
        Limits(max_depth=True)
    three = message(SIN, COS, ["fork", [0, 1]])
    assert loads(three, Limits(max_nodes=3)) == T.fork(T.prim("sin"), T.prim("cos"))


def test_dumps_refuses_what_loads_would_refuse() -> None:
    with pytest.raises(WireFormatError, match="encodes a Term"):
        dumps("sin")  # type: ignore[arg-type]
    # a NaN parameter would make the term unequal to itself: the builder refuses it, so dumps never sees one
    with pytest.raises(ct.TermTypeError, match="bad s=nan: expected a finite number"):
        T.scale(float("nan"))


# --- fuzz -----------------------------------------------------------------------------------------------

FUZZ_SEEDS = [
    (sqr, 3.0),
    (magSqr, (3.0, 4.0)),
    (cosSinProd, (0.5, 2.0)),
    (T.compose(T.prim("sum", axis=0), T.prim("mul"),
               T.fork(T.prim("index", idx=(slice(1, None), [0, 2])), T.const(np.ones((2, 2), np.float32)))),
     np.arange(9.0).reshape(3, 3)),
    (T.compose(T.jamn(3), T.cross(T.prim("tanh"), T.scale(2.0), T.prim("reshape", shape=(2,))),
               T.inj(0, 3, (Array((2,)), Array((2,)), Array((1, 2))))), np.ones(2)),
    (T.compose(T.prim("logsumexp", axis=-1), T.prim("matmul"), T.fork(T.identity, T.prim("transpose"))),
     np.eye(2)),
    # integers and booleans: a mask, an integer constant, a comparison, a conversion
    (T.compose(T.prim("where"), T.fork(T.compose(T.prim("less"), T.fork(T.identity, T.const(np.zeros(3)))),
                                       T.compose(T.prim("astype", dtype="float32"), T.const(np.arange(3, dtype=np.int32))),
                                       T.const(np.array([True, False, True])))),
     np.array([-1.0, 2.0, -3.0])),
    (T.compose(T.prim("add"), T.cross(T.prim("astype", dtype="int64"), T.identity)), (np.ones(2), np.arange(2))),
]


def mutate(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    b = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0:
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del b[rng.randrange(len(b)):]
    elif kind == 2:
        b[rng.randrange(len(b) + 1):0] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    elif kind == 3:
        i = rng.randrange(len(b))
        del b[i:i + rng.randint(1, 4)]
    elif kind == 4:
        b[rng.randrange(len(b))] = rng.choice((0x00, 0x7F, 0x80, 0x90, 0xC0, 0xC2, 0xC3, 0xCF, 0xD3, 0xDC, 0xFF))
    elif kind == 5:
        b = bytearray(swap_fields(rng, data))
    else:
        other = rng.choice(others)
        b = b[:rng.randrange(len(b) + 1)] + bytearray(other[rng.randrange(len(other)):])
    return bytes(b)


def swap_fields(rng: random.Random, data: bytes) -> bytes:
    """Swap two fields at the msgpack level: two nodes, two fields of a node, or a field and a node."""
    try:
        msg = msgpack.unpackb(data)
        nodes = msg["nodes"]
    except Exception:  # an earlier mutation broke the message: there are no fields left to swap
        return data
    a, b = rng.randrange(len(nodes)), rng.randrange(len(nodes))
    if rng.random() < 0.5:
        nodes[a], nodes[b] = nodes[b], nodes[a]
    else:
        na, nb = nodes[a], nodes[b]
        i, j = rng.randrange(len(na)), rng.randrange(len(nb))
        na[i], nb[j] = nb[j], na[i]
    return msgpack.packb(msg, use_bin_type=True)


def test_fuzz_loads_on_mutated_and_random_bytes() -> None:
    rng = random.Random(20180101)
    seeds = [(dumps(t), x, type_of(as_value(x))) for t, x in FUZZ_SEEDS]
    encoded = [s for s, _, _ in seeds]
    deadline = time.monotonic() + 20.0
    cases = decoded = evaluated = 0
    while cases < 3000 and time.monotonic() < deadline:
        cases += 1
        data, x, dom = rng.choice(seeds)
        if cases % 10 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        else:
            for _ in range(rng.randint(1, 3)):
                data = mutate(rng, data, encoded) or data
        try:
            term = loads(data)
        except WireFormatError:
            continue
        decoded += 1
        try:  # a decoded term is a real term: it type-checks or says why, and then runs
            ct.infer(term, dom)
        except ct.TermTypeError:
            continue
        if ct.cost(term, dom).work < 1e6:  # a mutated shape parameter may ask for a huge broadcast
            with np.errstate(all="ignore"):
                ct.evaluate(term, x)
            evaluated += 1
    assert cases >= 500 and decoded > 0 and evaluated > 0


# --- values ---------------------------------------------------------------------------------------------


@given(hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.bool_]),
                  hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
@settings(max_examples=50, deadline=None)
def test_random_values_of_every_dtype_round_trip(value: np.ndarray) -> None:
    back = loads_value(dumps_value(value))
    assert back.dtype == value.dtype and back.shape == value.shape
    np.testing.assert_array_equal(back, value)
    term = ct.const(value)
    assert loads(dumps(term)) == term


@pytest.mark.parametrize("value", [
    np.arange(6.0).reshape(2, 3), np.float32(2.5) * np.ones((3,), np.float32), np.array(1.5), np.array(2, np.float32),
    (np.zeros(2), (np.ones((1, 1), np.float32), np.array(-0.0))), (), np.array([np.nan, np.inf]),
])
def test_values_round_trip(value: Any) -> None:
    back = loads_value(dumps_value(value))
    same_values(back, value)
    same_values(decode_value(msgpack.unpackb(msgpack.packb(encode_value(value)))), value)


def test_python_numbers_travel_as_numpy_scalars() -> None:
    same_values(loads_value(dumps_value((1.5, 2, True))), (np.array(1.5), np.array(2), np.array(True)))


@pytest.mark.parametrize("value", [np.arange(6, dtype=np.int32).reshape(2, 3), np.array([-(2 ** 40), 7]),
                                   np.array([True, False, True]), np.float32(0.5), np.int64(3)])
def test_integer_and_boolean_values_round_trip(value: Any) -> None:
    same_values(loads_value(dumps_value(value)), np.asarray(value))


def test_integer_and_boolean_constants_round_trip() -> None:
    term = ct.compose(ct.prim("where"), ct.fork(ct.const(np.array([True, False])), ct.identity,
                                                ct.compose(ct.prim("astype", dtype="float64"), ct.const(np.arange(2)))))
    back = loads(dumps(term))
    assert back == term
    assert ct.evaluate(back, np.array([5.0, 6.0])).tolist() == [5.0, 1.0]


def test_a_missing_tangent_travels_as_nil() -> None:
    value = (np.ones(2), None, (None, np.int64(3)))
    back = loads_value(dumps_value(value))
    assert back[1] is None and back[2][0] is None
    same_values(back[0], value[0])
    wire.check_finite(back)


def test_a_bool_array_must_hold_zeros_and_ones() -> None:
    with pytest.raises(WireFormatError, match="0 or 1"):
        loads_value(msgpack.packb({"format": "catterms/value", "version": 1,
                                   "value": {"dtype": "bool", "shape": [2], "data": b"\x00\x02"}}))


def test_decoded_arrays_are_read_only() -> None:
    assert not loads_value(dumps_value(np.ones(3))).flags.writeable


def array_map(dtype: Any = "float64", shape: Any = (2,), data: Any = b"\0" * 16) -> dict[str, Any]:
    return {"dtype": dtype, "shape": list(shape) if isinstance(shape, tuple) else shape, "data": data}


@pytest.mark.parametrize("obj, where, limits", [
    ({"dtype": "float64", "shape": [1]}, "x: array: missing field 'data'", None),
    ({**array_map(), "extra": 1}, "x: array: unexpected field 'extra'", None),
    ([array_map(), [array_map(), array_map("uint8")]], "x[1][1]: unsupported dtype 'uint8'", None),
    ([array_map(shape=(3,))], "x[0]: 16 bytes do not hold", None),
    ([1.0], "x[0]: array: expected a map, got a float", None),
    ("abc", "x: array: expected a map, got a string", None),
    (array_map(shape=(2, 1, 1)), "x: rank 3 exceeds", Limits(max_rank=2)),
    ([array_map(), array_map()], "x[1]: the message's arrays hold more", Limits(max_array_elements=3)),
    ([[[array_map()]]], "x[0][0]: value nests deeper", Limits(max_nesting=1)),
])
def test_hostile_values_name_the_leaf(obj: Any, where: str, limits: Limits | None) -> None:
    with pytest.raises(WireFormatError) as info:
        decode_value(obj, limits, what="x")
    assert str(info.value).startswith(where), str(info.value)


@pytest.mark.parametrize("data, where", [
    (b"\x93", "message: not a valid msgpack"),
    (dumps(sqr), "message: format is 'catterms/term'"),
    (msgpack.packb({"format": "catterms/value", "version": 9, "value": []}), "message: unsupported version 9"),
])
def test_hostile_value_messages(data: bytes, where: str) -> None:
    with pytest.raises(WireFormatError) as info:
        loads_value(data)
    assert str(info.value).startswith(where), str(info.value)


def test_encode_value_refuses_what_is_not_a_value() -> None:
    for bad in ([1.0], np.array([1 + 2j]), "x", {"a": 1}):
        with pytest.raises(WireFormatError, match="cannot encode value"):
            encode_value(bad)


def test_check_finite_names_the_leaf() -> None:
    wire.check_finite((np.ones(2), (np.zeros((2, 2)),)), "x")
    with pytest.raises(WireFormatError, match=re.escape("x[1][0]: 2 non-finite entries (NaN or inf), the first "
                                                        "at index (0, 1)")):
        wire.check_finite((np.ones(2), (np.array([[0.0, np.nan], [np.inf, 1.0]]),)), "x")
