"""HTTP bodies: msgpack for the Python client, JSON for small requests and curl users.

A body is a map of plain values. Binary fields (a term's wire bytes, an encoded value) are msgpack ``bin``
in msgpack bodies and base64 strings in JSON bodies; :data:`BINARY` names them, so the JSON reader knows
which strings to decode. Nothing here ever unpickles: msgpack and JSON only build plain data.

Every client mistake in a body is a 4xx, however deep or odd the body. JSON nested deeper than
:data:`MAX_JSON_DEPTH` is ``malformed_body`` before it is parsed: json's parser recurses in C once per
level, and its only guard, Python's recursion limit, is one that catterms raises for deep terms, so a
deep enough body would overflow the C stack and kill the process. A request body (``plain=True``) is a
map with string keys whose values hold no arrays or maps, so nothing later walks or prints a deep
structure a client sent.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import msgpack
import numpy as np

from .errors import error

MSGPACK = "application/msgpack"
JSON = "application/json"

#: Fields that carry bytes: wire-format terms and values in requests and results.
BINARY = frozenset({"term", "x", "tangent", "cotangent", "value", "derivative"})

#: Deepest nesting of arrays and maps in a JSON body that is parsed at all (requests nest one level,
#: responses a few). msgpack needs no such bound: its parser keeps its own fixed stack.
MAX_JSON_DEPTH = 64

_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def encode(obj: Any, content_type: str = MSGPACK) -> bytes:
    """Serialise a body in ``content_type`` (bytes become base64 strings in JSON)."""
    if content_type == JSON:
        return json.dumps(obj, default=_json_default, separators=(",", ":")).encode()
    return msgpack.packb(obj, use_bin_type=True)


def media_type(header: str | None) -> str | None:
    """The bare media type of a Content-Type header, or None when it is neither of ours."""
    kind = (header or "").split(";", 1)[0].strip().lower()
    if kind in (MSGPACK, "application/x-msgpack", "application/vnd.msgpack"):
        return MSGPACK
    if kind == JSON or kind.endswith("+json"):
        return JSON
    return None


#: What a JSON or msgpack value is called in messages.
_KINDS = {dict: "a map", list: "an array", str: "a string", bytes: "binary", bool: "a boolean", int: "a number",
          float: "a number", type(None): "nil"}


def decode(data: bytes, content_type: str | None, *, plain: bool = False) -> dict[str, Any]:
    """Parse a body into a map, or raise ``malformed_body``/``unsupported_media_type``; with ``plain`` (a
    request), also ``malformed_body`` for a key that is not a string and ``bad_field`` for a value that is an
    array or a map."""
    kind = media_type(content_type)
    if kind is None:
        raise error("unsupported_media_type", f"send {MSGPACK} or {JSON}, not {content_type or 'no Content-Type'}")
    name = kind.split("/")[1]
    if kind == JSON and json_depth(data) > MAX_JSON_DEPTH:
        raise error("malformed_body", f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        # UTF-8 only (RFC 8259), as json_depth reads it: json.loads would also take UTF-16 and UTF-32 bytes
        obj = json.loads(data.decode()) if kind == JSON else msgpack.unpackb(data, raw=False, strict_map_key=True)
    except RecursionError:
        raise error("malformed_body", f"the {name} body nests too deeply") from None
    except (ValueError, msgpack.UnpackException, TypeError) as e:
        raise error("malformed_body", f"the body is not valid {name}: {e or type(e).__name__}") from None
    if not isinstance(obj, dict):
        raise error("malformed_body", f"the body must be a map, got {_KINDS.get(type(obj), type(obj).__name__)}")
    if plain:
        _check_plain(obj)
    if kind == JSON:
        for key in BINARY & obj.keys():
            if isinstance(obj[key], str):
                try:
                    obj[key] = base64.b64decode(obj[key], validate=True)
                except ValueError:  # binascii.Error, or a non-ASCII character ("é", a lone surrogate)
                    raise error("bad_field", f"{key} must be base64 (ASCII) in a JSON body", field=key) from None
    return obj


def json_depth(data: bytes) -> int:
    """How deep arrays and maps nest in the UTF-8 JSON text ``data``, found without parsing it (and without
    recursion): a running count of the brackets outside strings. Exact for valid JSON; any other text is
    refused by the parser at the first place it goes wrong, so it recurses no deeper than this counted."""
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:  # too few brackets to nest deeper: no scan
        return 0
    brackets = np.frombuffer(_JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS), np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int8)
    deepest = level = 0
    for start in range(0, len(steps), 1 << 20):  # in slices: bounded memory for a body of brackets
        running = np.cumsum(steps[start:start + (1 << 20)], dtype=np.int64) + level
        deepest, level = max(deepest, int(running.max())), int(running[-1])
    return deepest


#: Longest key of a request body: keys are field names, echoed in errors (``field``).
MAX_KEY = 64


def _check_plain(obj: dict[Any, Any]) -> None:
    for key, value in obj.items():
        if not (isinstance(key, str) and key.isprintable() and len(key) <= MAX_KEY):
            got = (f"a key of {len(key)} characters{'' if key.isprintable() else ', not all printable'}"
                   if isinstance(key, str) else f"{_KINDS.get(type(key), 'another')} key")
            raise error("malformed_body", f"the body's keys are field names, printable strings of at most {MAX_KEY} "
                        f"characters; got {got}")
        if isinstance(value, (dict, list)):
            raise error("bad_field", f"{key!r} holds {_KINDS[type(value)]}; the fields of a request are plain values "
                        "(strings, numbers, booleans, nil, binary)", field=key)


def preferred(accept: str | None) -> str:
    """The response type for an Accept header: msgpack when asked for (as the Python client does), else
    JSON, so that curl and browsers read answers without a msgpack decoder."""
    return MSGPACK if "msgpack" in (accept or "").lower() else JSON
