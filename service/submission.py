"""A job submission: the body of ``POST /v1/jobs``, its content hash, and its validation.

The body carries the term and the values as catterms wire bytes (``ct.dumps``, ``ct.wire.dumps_value``)
plus the mode and options. The client builds it with :meth:`Submission.build`; the server reads its
fields with :meth:`Submission.from_body` (cheap, no decoding) and then :func:`check` decodes the term and
values under the configured :class:`~catterms.wire.Limits` and type-checks the term on the input, so a
bad job is refused at the door with the node or field named, instead of failing later on a worker.

Deduplication rule: two submissions are the same job when their bytes are identical (term bytes, input,
tangent and cotangent bytes, mode and baseline flag): :attr:`Submission.digest` hashes exactly these.
``ct.dumps`` is deterministic, so resubmitting the same term with the same arrays finds the earlier job.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import catterms as ct
from catterms import wire
from catterms.api import prepare, require_scalar
from catterms.modes import SPECS, modes
from catterms.types import as_tangent

from .errors import error

MODES = modes(job=True)

#: Which optional value each mode needs (and the only modes that accept it).
_NEEDS = {m: SPECS[m].needs for m in MODES if SPECS[m].needs is not None}


@dataclass(frozen=True)
class Submission:
    """A job as submitted: wire bytes and options, exactly as hashed for deduplication."""

    term: bytes
    x: bytes
    mode: str = "grad"
    tangent: bytes | None = None
    cotangent: bytes | None = None
    baseline: bool = False

    @classmethod
    def build(
        cls, term: ct.Term, x: Any, mode: str = "grad", tangent: Any = None, cotangent: Any = None,
        baseline: bool = False,
    ) -> Submission:
        """Encode a term and values on the client side."""
        enc = lambda v: None if v is None else wire.dumps_value(v)  # noqa: E731
        return cls(wire.dumps(term), enc(x), mode, enc(tangent), enc(cotangent), bool(baseline))

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Submission:
        """Read and check the fields of a request body (no decoding yet)."""
        unknown = body.keys() - {"term", "x", "mode", "tangent", "cotangent", "baseline"}
        if unknown:
            name = sorted(unknown)[0]
            raise error("bad_field", f"unknown field {name!r}", field=name)
        mode = body.get("mode", "grad")
        if mode not in MODES:
            raise error("bad_field", f"mode must be one of {', '.join(MODES)}, got {mode!r}", field="mode")
        for name in ("term", "x"):
            if not isinstance(body.get(name), bytes):
                raise error("bad_field", f"{name} is required and must be binary (wire-format bytes)", field=name)
        for name in ("tangent", "cotangent"):
            given = body.get(name) is not None
            if given and not isinstance(body[name], bytes):
                raise error("bad_field", f"{name} must be binary (wire-format bytes)", field=name)
            if given != (_NEEDS.get(mode) == name):
                if not given:
                    raise error("bad_field", f"mode {mode!r} needs a {name}: pass {name}= to Client.submit, "
                                f"--{name} FILE to catterms submit, or the {name!r} field over HTTP", field=name)
                owners = " and ".join(repr(m) for m, n in _NEEDS.items() if n == name)
                raise error("bad_field", f"{name} is only for mode {owners}", field=name)
        baseline = body.get("baseline", False)
        if not isinstance(baseline, bool):
            raise error("bad_field", "baseline must be true or false", field="baseline")
        return cls(body["term"], body["x"], mode, body.get("tangent"), body.get("cotangent"), baseline)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"term": self.term, "x": self.x, "mode": self.mode, "baseline": self.baseline}
        for name in ("tangent", "cotangent"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        return body

    @property
    def nbytes(self) -> int:
        """Size of the wire bytes it carries."""
        return sum(len(b) for b in (self.term, self.x, self.tangent, self.cotangent) if b is not None)

    @property
    def digest(self) -> str:
        """The content hash that identifies identical submissions (see the module docstring)."""
        h = hashlib.sha256(f"{self.mode}|{int(self.baseline)}".encode())
        for part in (self.term, self.x, self.tangent, self.cotangent):
            h.update(b"-" if part is None else len(part).to_bytes(8, "little") + part)
        return h.hexdigest()


@dataclass(frozen=True)
class Job:
    """A submission decoded and type-checked: what the executor runs."""

    term: ct.Term
    x: Any
    mode: str
    tangent: Any
    cotangent: Any
    baseline: bool

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Executor.submit(term, x, **kwargs)``."""
        return {"mode": self.mode, "tangent": self.tangent, "cotangent": self.cotangent, "baseline": self.baseline}


def _node(e: Exception) -> str | None:
    """The term node an error names: the typechecker's path, or the wire format's ``node K (op)``."""
    where = getattr(e, "where", None)
    if where is not None:
        return str(where)
    found = re.match(r"node (\d+ \([^)]*\))", str(e))
    return found.group(1) if found else None


def _value(sub: Submission, name: str, limits: wire.Limits) -> Any:
    data = getattr(sub, name)
    if data is None:
        return None
    try:
        value = wire.loads_value(data, limits, what=name)
    except ct.WireFormatError as e:
        raise error("wire_format", str(e), field=name) from None
    try:
        wire.check_finite(value, name)
    except ct.WireFormatError as e:
        raise error("non_finite", str(e), field=name) from None
    return value


def check(sub: Submission, limits: wire.Limits) -> Job:
    """Decode ``sub`` under ``limits`` and type-check it; raise the service error that names the culprit."""
    try:
        term = wire.loads(sub.term, limits)
    except ct.WireFormatError as e:
        raise error("wire_format", f"term: {e}", field="term", node=_node(e)) from None
    x, tangent, cotangent = (_value(sub, name, limits) for name in ("x", "tangent", "cotangent"))
    field = "x"
    try:
        x, dom, cod = prepare(term, x)
        if SPECS[sub.mode].scalar:
            require_scalar(cod, dom)
        field = "tangent"
        tangent = None if tangent is None else as_tangent(tangent, dom)
        field = "cotangent"
        cotangent = None if cotangent is None else as_tangent(cotangent, cod)
    except ct.TermTypeError as e:
        raise error("ill_typed", f"{field}: {e}", field=field, node=_node(e)) from None
    return Job(term, x, sub.mode, tangent, cotangent, sub.baseline)

