"""HTTP bodies: msgpack for the Python client, JSON for small requests and curl users.

A body is a map of plain values. Binary fields (a term's wire bytes, an encoded value) are msgpack ``bin``
in msgpack bodies and base64 strings in JSON bodies; :data:`BINARY` names them, so the JSON reader knows
which strings to decode. Nothing here ever unpickles: msgpack and JSON only build plain data.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import msgpack

from .errors import error

MSGPACK = "application/msgpack"
JSON = "application/json"

#: Fields that carry bytes: wire-format terms and values in requests and results.
BINARY = frozenset({"term", "x", "tangent", "cotangent", "value", "derivative"})


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


def decode(data: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse a request body into a map, or raise ``malformed_body``/``unsupported_media_type``."""
    kind = media_type(content_type)
    if kind is None:
        raise error("unsupported_media_type", f"send {MSGPACK} or {JSON}, not {content_type or 'no Content-Type'}")
    try:
        obj = json.loads(data) if kind == JSON else msgpack.unpackb(data, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException, TypeError) as e:
        raise error("malformed_body", f"the body is not valid {kind.split('/')[1]}: {e}") from None
    if not isinstance(obj, dict):
        raise error("malformed_body", f"the body must be a map, got {type(obj).__name__}")
    if kind == JSON:
        for name in BINARY & obj.keys():
            if isinstance(obj[name], str):
                try:
                    obj[name] = base64.b64decode(obj[name], validate=True)
                except binascii.Error:
                    raise error("bad_field", f"{name} must be base64 in a JSON body", field=name) from None
    return obj


def preferred(accept: str | None) -> str:
    """The response type for an Accept header: msgpack when asked for (as the Python client does), else
    JSON, so that curl and browsers read answers without a msgpack decoder."""
    return MSGPACK if "msgpack" in (accept or "").lower() else JSON
