"""The wire format: terms and values as msgpack, checked on the way in.

This is catterms' boundary with everything outside one process: the service's HTTP API, files, and
Dask, which pickles terms through here (this module registers how a :class:`Term` pickles). A term
travels as a flat node table in topological order with children by index, so a shared subterm is sent
once and decoding is one loop with no recursion; arrays travel as raw little-endian bytes with their
dtype and shape. Nothing is ever pickled.

:func:`loads` and :func:`loads_value` treat their input as hostile. Every malformed message, and every
message over a :class:`Limits` bound, raises :class:`~catterms.errors.WireFormatError` naming the
offending node (``node 7 (prim sin): …``) or value leaf (``x[1]: …``), never another exception, after
work linear in the message's size. ``docs/wire-format.md`` specifies the format.
"""

from __future__ import annotations

import copyreg
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import msgpack
import numpy as np

from . import trees
from .errors import WireFormatError
from .terms import Term, const, dupn, identity, inj, jamn, prim, proj
from .types import Array, Type, as_value

TERM_FORMAT = "catterms/term"
VALUE_FORMAT = "catterms/value"
VERSION = 2

#: The versions this catterms reads: version 2 added term-valued parameters (a loop's body) to version 1.
READS = (1, 2)

#: The dtypes that travel, as little-endian numpy dtypes (the wire's byte order whatever the host's).
WIRE_DTYPES: dict[str, np.dtype] = {"float64": np.dtype("<f8"), "float32": np.dtype("<f4"), "int64": np.dtype("<i8"),
                                     "int32": np.dtype("<i4"), "bool": np.dtype("?")}

#: Every map in the format has at most three keys; prim params have at most two. A bound on map length
#: stops a message from declaring a huge map before its content is checked.
MAX_MAP_LEN = 16

#: The ops of the node table and how many data fields follow the children list.
DATA_FIELDS = {
    "id": 0, "compose": 0, "cross": 0, "fork": 0, "join": 0,
    "proj": 2, "dup": 1, "jam": 1, "inj": 3, "prim": 2, "const": 3,
}
NARY = ("compose", "cross", "fork", "join")


@dataclass(frozen=True)
class Limits:
    """What :func:`loads` and :func:`loads_value` accept; override fields, e.g. ``Limits(max_nodes=1000)``.

    The defaults admit the scale the project promises (a 10,000-primitive chain, a 100,000-node term,
    arrays of 2²² elements) while bounding the memory and time of decoding, and keep the evaluation of
    any accepted term clear of Python's and the C stack's limits.
    """

    max_bytes: int = 32 << 20
    """Total message size, checked before anything is unpacked. Unpacked msgpack scalars take up to
    about 20 times their encoded size in Python objects, so this also bounds memory."""
    max_nodes: int = 1_000_000
    """Length of the node table (distinct nodes)."""
    max_containers: int = 4_000_000
    """msgpack arrays and maps in one message (a node uses two to five). An empty array is one byte on
    the wire but a 64-byte Python list: without this bound, 32 MiB of them take 2 GiB and many seconds."""
    max_depth: int = 10_000
    """Nesting depth of the term (:attr:`Term.depth`). Interpreters run nested closures, one C-stack
    frame per level in places; measured on an 8 MiB stack, depth 30,000 evaluates and 50,000 crashes."""
    max_size: int = 10_000_000
    """Tree size (:attr:`Term.size`: a shared subterm counts once per use), which bounds evaluation
    work: 100 nodes each used twice by the next have 2¹⁰⁰ paths and are refused."""
    max_arity: int = 1_000_000
    """Children of one compose/cross/fork/join node, and ``n`` of proj, dup, jam and inj."""
    max_array_elements: int = 1 << 22
    """Elements of one array, and of all arrays of one message together (consts, inj types, values)."""
    max_rank: int = 32
    """Dimensions of one array (or array type)."""
    max_nesting: int = 32
    """Nesting depth of a product value, a product type, or a prim's parameter value."""
    max_str_len: int = 256
    """Length of any string (op names, primitive and parameter names, dtypes, index tags)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise WireFormatError(f"Limits.{f.name} must be a positive integer, got {v!r}")


DEFAULT_LIMITS = Limits()

#: For terms pickled between our own processes (Dask ships terms this way): trusted, not bounded.
TRUSTED_LIMITS = Limits(*(1 << 62 for _ in fields(Limits)))


def loads_trusted(data: bytes) -> Term:
    """:func:`loads` without limits, for bytes this program wrote itself (a pickled term)."""
    return loads(data, TRUSTED_LIMITS)


def _pickled(term: Term) -> tuple[Callable[[bytes], Term], tuple[bytes]]:
    # Pickle through the wire format: it is flat, so deep terms never hit pickle's recursion.
    return loads_trusted, (dumps(term),)


copyreg.pickle(Term, _pickled)


# --- encoding -------------------------------------------------------------------------------------------


def _pack(body_name: str, fmt: str, body: Any) -> bytes:
    return msgpack.packb({"format": fmt, "version": VERSION, body_name: body}, use_bin_type=True)


def _array_fields(arr: np.ndarray) -> dict[str, Any]:
    little = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    # the array's own bytes, which msgpack copies once into the message (``tobytes`` would copy them first)
    return {"dtype": arr.dtype.name, "shape": list(arr.shape), "data": little.reshape(-1).view(np.uint8).data}


def encode_type(t: Type) -> Any:
    """An object as msgpack-able data: an array type is ``{dtype, shape}``, a product a list."""
    if isinstance(t, Array):
        return {"dtype": t.dtype, "shape": list(t.shape)}
    return [encode_type(c) for c in t]


def _finite_params(params: tuple) -> None:
    # NaN parameters would break the terms' structural equality (nan != nan) and so every cache keyed
    # by terms; both directions refuse them, so that a term that encodes also decodes.
    stack: list[Any] = [v for _, v in params]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(v)
        elif isinstance(v, float) and not math.isfinite(v):
            raise WireFormatError(f"parameter value {v!r} is not finite")


def _encode_node(node: Term, children: list[int], index: dict[int, int]) -> list[Any]:
    op, data = node.op, node.data
    if op == "inj":
        i, n, like = data
        return [op, children, i, n, None if like is None else encode_type(like)]
    if op == "prim":
        _finite_params(data[1])
        return [op, children, data[0], {k: {"term": index[id(v)]} if isinstance(v, Term) else v
                                        for k, v in data[1]}]
    if op == "const":
        return [op, children, *_array_fields(node.value).values()]  # dtype, shape, data
    return [op, children, *data]


def dumps(term: Term) -> bytes:
    """Encode a term: each distinct node once, children before parents, the root last."""
    if not isinstance(term, Term):
        raise WireFormatError(f"dumps encodes a Term, got {type(term).__name__}")
    index: dict[int, int] = {}
    table: list[list[Any]] = []
    for node in term.nodes(bodies=True):
        try:
            table.append(_encode_node(node, [index[id(a)] for a in node.args], index))
        except WireFormatError as e:
            raise WireFormatError(f"node {len(table)} ({_node_label(node.op, node.data[:1])}): {e}") from None
        index[id(node)] = len(table) - 1
    return _pack("nodes", TERM_FORMAT, table)


def encode_value(value: Any) -> Any:
    """A value (array, number or tuple of these) as msgpack-able data: arrays as ``{dtype, shape, data}``
    maps with little-endian bytes, products as lists, and ``None`` — the tangent or cotangent of an integer
    or boolean part, which has none — as nil."""
    try:
        value = _normalised(value)
    except (TypeError, ValueError) as e:
        raise WireFormatError(f"cannot encode value: {e}") from e
    return _encode_normalised(value)


def _normalised(value: Any) -> Any:
    return trees.map(lambda v: None if v is None else as_value(v), value)


def _encode_normalised(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple):
        return [_encode_normalised(v) for v in value]
    return _array_fields(value)


def dumps_value(value: Any) -> bytes:
    """A value as a self-describing message (format ``catterms/value``)."""
    return _pack("value", VALUE_FORMAT, encode_value(value))


# --- decoding -------------------------------------------------------------------------------------------

_KINDS = {list: "an array", dict: "a map", str: "a string", bytes: "binary", int: "an integer",
          float: "a float", bool: "a boolean", type(None): "nil"}


def _kind(v: Any) -> str:
    """What a decoded msgpack object is, in msgpack's words."""
    return _KINDS.get(type(v), type(v).__name__)


class _Containers:
    """msgpack's hooks for arrays and maps: count them against the limit; maps must not repeat a key."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def count(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise WireFormatError("more arrays and maps than Limits.max_containers")

    def array(self, items: list[Any]) -> list[Any]:
        self.count()
        return items

    def map(self, pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
        self.count()
        out = dict(pairs)
        if len(out) != len(pairs):
            raise WireFormatError("a map repeats a key")
        return out


def _unpack(data: Any, limits: Limits) -> Any:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireFormatError(f"message: expected bytes, got {type(data).__name__}")
    size = memoryview(data).nbytes
    if size > limits.max_bytes:
        raise WireFormatError(f"message: {size} bytes exceed Limits.max_bytes={limits.max_bytes}")
    containers = _Containers(limits.max_containers)
    try:
        return msgpack.unpackb(
            data, raw=False, strict_map_key=True, use_list=True,
            list_hook=containers.array, object_pairs_hook=containers.map,
            max_bin_len=limits.max_bytes, max_str_len=limits.max_str_len, max_ext_len=0,
            max_array_len=max(limits.max_nodes, limits.max_arity), max_map_len=MAX_MAP_LEN,
        )
    except WireFormatError as e:  # from the hooks
        raise WireFormatError(f"message: {e}") from e
    except Exception as e:  # msgpack signals bad input with several unrelated exception classes
        raise WireFormatError(f"message: not a valid msgpack message ({type(e).__name__}: {e})") from e


def _fields(obj: Any, names: tuple[str, ...], where: str) -> None:
    if not isinstance(obj, dict):
        raise WireFormatError(f"{where}: expected a map, got {_kind(obj)}")
    for k in obj:
        if k not in names:
            raise WireFormatError(f"{where}: unexpected field {k!r}")
    for k in names:
        if k not in obj:
            raise WireFormatError(f"{where}: missing field {k!r}")


def _open(msg: Any, fmt: str, body: str) -> Any:
    """Check a message's envelope (format, then version, then fields) and return its body."""
    if not isinstance(msg, dict):
        raise WireFormatError(f"message: expected a map, got {_kind(msg)}")
    if msg.get("format") != fmt:
        raise WireFormatError(f"message: format is {msg.get('format')!r}, expected {fmt!r}")
    version = msg.get("version")
    if type(version) is not int or version not in READS:
        raise WireFormatError(f"message: unsupported version {version!r}; this catterms reads versions "
                              f"{', '.join(map(str, READS))}")
    _fields(msg, ("format", "version", body), "message")
    return msg[body], version


def _int(v: Any, what: str) -> int:
    if type(v) is not int:
        raise WireFormatError(f"{what} must be an integer, got {_kind(v)}")
    return v


def _node_label(op: Any, data: Any) -> str:
    """``prim sin``, ``compose``, or ``?`` when the op itself is malformed."""
    if not isinstance(op, str):
        return "?"
    if op == "prim" and data and isinstance(data[0], str):
        return f"prim {data[0]}"
    return op


class _Decoder:
    """The checks of one message, with its running total of array elements."""

    def __init__(self, limits: Limits, version: int = VERSION) -> None:
        self.limits = limits
        self.elements = 0
        self.version = version

    def shape(self, raw: Any) -> tuple[int, ...]:
        lim = self.limits
        if not isinstance(raw, list):
            raise WireFormatError(f"shape must be an array of sizes, got {_kind(raw)}")
        if len(raw) > lim.max_rank:
            raise WireFormatError(f"rank {len(raw)} exceeds Limits.max_rank={lim.max_rank}")
        for d in raw:
            if _int(d, "a size") < 0:
                raise WireFormatError(f"negative size {d} in shape {raw}")
            if d > lim.max_array_elements:
                raise WireFormatError(f"size {d} exceeds Limits.max_array_elements={lim.max_array_elements}")
        shape = tuple(raw)
        count = math.prod(shape)
        if count > lim.max_array_elements:
            raise WireFormatError(f"shape {shape} has {count} elements, over Limits.max_array_elements="
                                  f"{lim.max_array_elements}")
        self.elements += count
        if self.elements > lim.max_array_elements:
            raise WireFormatError(f"the message's arrays hold more than Limits.max_array_elements="
                                  f"{lim.max_array_elements} elements together")
        return shape

    def dtype(self, raw: Any) -> np.dtype:
        dt = WIRE_DTYPES.get(raw) if isinstance(raw, str) else None
        if dt is None:
            raise WireFormatError(f"unsupported dtype {raw!r}; the wire carries {', '.join(WIRE_DTYPES)}")
        return dt

    def array(self, dtype: Any, shape: Any, data: Any) -> np.ndarray:
        """A read-only array over the message's bytes (converted only on a big-endian host)."""
        dt, shp = self.dtype(dtype), self.shape(shape)
        if not isinstance(data, bytes):
            raise WireFormatError(f"array data must be binary, got {_kind(data)}")
        need = math.prod(shp) * dt.itemsize
        if len(data) != need:
            raise WireFormatError(f"{len(data)} bytes do not hold a {dtype}{list(shp)} array ({need} bytes)")
        if dt.kind == "b" and data.strip(b"\x00\x01"):
            raise WireFormatError("a bool array's bytes must each be 0 or 1")
        return np.frombuffer(data, dtype=dt).reshape(shp).astype(dt.newbyteorder("="), copy=False)

    def type(self, raw: Any, depth: int = 0) -> Type:
        if depth > self.limits.max_nesting:
            raise WireFormatError(f"type nests deeper than Limits.max_nesting={self.limits.max_nesting}")
        if isinstance(raw, list):
            return tuple(self.type(c, depth + 1) for c in raw)
        _fields(raw, ("dtype", "shape"), "array type")
        return Array(self.shape(raw["shape"]), self.dtype(raw["dtype"]).name)

    def param(self, raw: Any, built: list[Term], used: bytearray, depth: int = 0) -> Any:
        """A parameter value: msgpack arrays become tuples, the canonical form terms store; ``{"term": k}``
        (version 2) is the term whose root is node ``k``, an earlier node of the table (a loop's body)."""
        if depth > self.limits.max_nesting:
            raise WireFormatError(f"parameter nests deeper than Limits.max_nesting={self.limits.max_nesting}")
        if isinstance(raw, list):
            return tuple(self.param(v, built, used, depth + 1) for v in raw)
        if isinstance(raw, dict) and self.version >= 2:
            _fields(raw, ("term",), "term parameter")
            k = _int(raw["term"], "a term parameter's node index")
            if not 0 <= k < len(built):
                raise WireFormatError(f"term parameter {k} must refer to an earlier node (the table has "
                                      f"{len(built)} before this one)")
            used[k] = 1
            return built[k]
        if isinstance(raw, float) and not math.isfinite(raw):
            raise WireFormatError(f"parameter value {raw!r} is not finite")
        if raw is None or isinstance(raw, (bool, int, float, str)):
            return raw
        raise WireFormatError(f"a parameter value must be nil, a boolean, a number, a string or an array, "
                              f"got {_kind(raw)}")

    def value(self, raw: Any, path: str, depth: int = 0) -> Any:
        if depth > self.limits.max_nesting:
            raise WireFormatError(f"{path}: value nests deeper than Limits.max_nesting={self.limits.max_nesting}")
        if isinstance(raw, list):
            return tuple(self.value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(raw))
        if raw is None:
            return None  # the tangent of a part without one (integers, booleans)
        try:
            _fields(raw, ("dtype", "shape", "data"), "array")
            return self.array(raw["dtype"], raw["shape"], raw["data"])
        except WireFormatError as e:
            raise WireFormatError(f"{path}: {e}") from e

    def children(self, raw: Any, built: list[Term], used: bytearray) -> tuple[Term, ...]:
        k = len(built)
        if not isinstance(raw, list):
            raise WireFormatError(f"children must be an array of node indices, got {_kind(raw)}")
        if len(raw) > self.limits.max_arity:
            raise WireFormatError(f"{len(raw)} children exceed Limits.max_arity={self.limits.max_arity}")
        for c in raw:
            _int(c, "a child index")
            if c == k:
                raise WireFormatError("a child refers to the node itself")
            if k < c < len(used):
                raise WireFormatError(f"child {c} is a forward reference: children must come first")
            if not 0 <= c < k:
                raise WireFormatError(f"child {c} is out of range (the table has {len(used)} nodes)")
            used[c] = 1
        return tuple(built[c] for c in raw)

    def n(self, raw: Any) -> int:
        n = _int(raw, "n")
        if n > self.limits.max_arity:
            raise WireFormatError(f"n={n} exceeds Limits.max_arity={self.limits.max_arity}")
        return n

    def node(self, raw: Any, built: list[Term], used: bytearray) -> Term:
        if not isinstance(raw, list) or len(raw) < 2:
            raise WireFormatError(f"a node is an array [op, children, data...], got {_kind(raw)}")
        op, data = raw[0], raw[2:]
        if not isinstance(op, str) or op not in DATA_FIELDS:
            raise WireFormatError(f"unknown op {op!r}")
        if len(data) != DATA_FIELDS[op]:
            raise WireFormatError(f"{op} takes {DATA_FIELDS[op]} data fields, got {len(data)}")
        args = self.children(raw[1], built, used)
        if op in NARY:
            if len(args) < 2:
                raise WireFormatError(f"{op} needs at least 2 children, got {len(args)}")
            return Term(op, (), args)
        if args:
            raise WireFormatError(f"{op} takes no children, got {len(args)}")
        if op == "id":
            return identity
        if op == "proj":
            return proj(_int(data[0], "i"), self.n(data[1]))
        if op == "dup":
            return dupn(self.n(data[0]))
        if op == "jam":
            return jamn(self.n(data[0]))
        if op == "inj":
            return inj(_int(data[0], "i"), self.n(data[1]), None if data[2] is None else self.type(data[2]))
        if op == "prim":
            name, params = data
            if not isinstance(params, dict):
                raise WireFormatError(f"params must be a map, got {_kind(params)}")
            return prim(name, **{k: self.param(v, built, used) for k, v in params.items()})
        arr = self.array(*data)
        return const(arr, dtype=arr.dtype)

    def limit(self, term: Term) -> None:
        lim = self.limits
        if term.depth > lim.max_depth:
            raise WireFormatError(f"term depth {term.depth} exceeds Limits.max_depth={lim.max_depth}")
        if term.size > lim.max_size:
            raise WireFormatError(f"term size {term.size} (counting shared subterms per use) exceeds "
                                  f"Limits.max_size={lim.max_size}")


def loads(data: bytes, limits: Limits | None = None) -> Term:
    """Decode and check a term; any problem raises :class:`WireFormatError` naming the node."""
    lim = limits or DEFAULT_LIMITS
    table, version = _open(_unpack(data, lim), TERM_FORMAT, "nodes")
    if not isinstance(table, list) or not table:
        raise WireFormatError(f"message: nodes must be a non-empty array, got {_kind(table)}")
    if len(table) > lim.max_nodes:
        raise WireFormatError(f"message: {len(table)} nodes exceed Limits.max_nodes={lim.max_nodes}")
    dec = _Decoder(lim, version)
    built: list[Term] = []
    used = bytearray(len(table))
    for k, raw in enumerate(table):
        try:
            term = dec.node(raw, built, used)
            dec.limit(term)
        except Exception as e:  # builders and prim normalisers raise TypeError, TermTypeError, ...: wrap all
            label = _node_label(raw[0], raw[2:]) if isinstance(raw, list) and raw else "?"
            raise WireFormatError(f"node {k} ({label}): {e}") from e
        built.append(term)
    unused = used.find(0, 0, len(table) - 1)
    if unused >= 0:
        raise WireFormatError(f"node {unused} ({_node_label(built[unused].op, built[unused].data[:1])}): "
                              f"not used by the root (the last node)")
    return built[-1]


def decode_value(obj: Any, limits: Limits | None = None, what: str = "value") -> Any:
    """Check and decode :func:`encode_value`'s data; errors name the leaf, e.g. ``x[1]: …``.

    Arrays are read-only views of the message's bytes. NaN and inf pass (see :func:`check_finite`).
    """
    return _Decoder(limits or DEFAULT_LIMITS).value(obj, what)


def loads_value(data: bytes, limits: Limits | None = None, what: str = "value") -> Any:
    """Decode a :func:`dumps_value` message."""
    lim = limits or DEFAULT_LIMITS
    return _Decoder(lim).value(_open(_unpack(data, lim), VALUE_FORMAT, "value")[0], what)


def check_finite(value: Any, what: str = "value") -> None:
    """Refuse NaN and inf anywhere in a value (the wire carries them; a service may not want them)."""
    for path, v in trees.paths(value):
        if v is None:
            continue
        bad = ~np.isfinite(np.asarray(v))
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            where = what + "".join(f"[{i}]" for i in path)
            raise WireFormatError(f"{where}: {int(bad.sum())} non-finite entries (NaN or inf), the first at "
                                  f"index {first}")
