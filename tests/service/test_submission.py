"""Reading and checking a submission: every bad field or term is refused with its code, field and node."""

from __future__ import annotations

import msgpack
import numpy as np
import pytest

import catterms as ct
from catterms import wire
from service import codec
from service.errors import CODES, ServiceError, error, from_response
from service.submission import Submission, check

F = ct.compose(ct.prim("sum"), ct.prim("sin"))  # R^n -> R
X = np.arange(3.0)
LIMITS = wire.Limits()


def refused(code: str, fn, *args) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        fn(*args)
    assert info.value.code == code, info.value.to_dict()
    return info.value


def body(**changes) -> dict:
    return {**Submission.build(F, X).to_body(), **changes}


def test_build_and_check_round_trip():
    sub = Submission.from_body(codec.decode(codec.encode(body()), codec.MSGPACK))
    job = check(sub, LIMITS)
    assert job.term == F and np.array_equal(job.x, X) and job.mode == "grad"


def test_json_bodies_carry_bytes_as_base64():
    data = codec.encode(body(mode="value"), codec.JSON)
    sub = Submission.from_body(codec.decode(data, "application/json; charset=utf-8"))
    assert sub == Submission.build(F, X, mode="value")
    refused("bad_field", codec.decode, b'{"term": "not base64!"}', codec.JSON)


@pytest.mark.parametrize(
    "data, kind, code",
    [
        (b"\xc1\x00", codec.MSGPACK, "malformed_body"),
        (msgpack.packb([1, 2]), codec.MSGPACK, "malformed_body"),
        (b"{", codec.JSON, "malformed_body"),
        (b"{}", "text/plain", "unsupported_media_type"),
    ],
)
def test_malformed_bodies(data, kind, code):
    refused(code, codec.decode, data, kind)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"mode": "hessian"}, "mode"),
        ({"term": "abc"}, "term"),
        ({"x": None}, "x"),
        ({"extra": 1}, "extra"),
        ({"baseline": "yes"}, "baseline"),
        ({"mode": "jvp"}, "tangent"),
        ({"mode": "grad", "cotangent": b"c"}, "cotangent"),
        ({"mode": "vjp", "cotangent": 3}, "cotangent"),
    ],
)
def test_bad_fields_are_named(changes, field):
    assert refused("bad_field", Submission.from_body, body(**changes)).field == field


def test_bad_term_bytes_name_the_node():
    e = refused("wire_format", check, Submission(b"\x93garbage", wire.dumps_value(X)), LIMITS)
    assert e.field == "term"
    table = [["prim", [], "frobnicate", {}]]
    bad = msgpack.packb({"format": "catterms/term", "version": 1, "nodes": table}, use_bin_type=True)
    e = refused("wire_format", check, Submission(bad, wire.dumps_value(X)), LIMITS)
    assert e.node == "0 (prim frobnicate)" and "frobnicate" in e.message


def test_limits_apply_before_arrays_are_decoded():
    e = refused("wire_format", check, Submission.build(F, np.zeros(100)), wire.Limits(max_array_elements=10))
    assert e.field == "x" and "max_array_elements" in e.message


def test_ill_typed_and_wrong_shapes():
    mat = ct.prim("matmul")
    e = refused("ill_typed", check, Submission.build(mat, (np.ones((2, 3)), np.ones((2, 3))), "value"), LIMITS)
    assert e.node is not None and "matmul" in e.message
    refused("ill_typed", check, Submission.build(ct.prim("sin"), X, "grad"), LIMITS)  # grad of a vector output
    e = refused("ill_typed", check, Submission.build(F, X, "jvp", tangent=np.ones(4)), LIMITS)
    assert e.field == "tangent"
    e = refused("ill_typed", check, Submission.build(F, X, "vjp", cotangent=np.ones(2)), LIMITS)
    assert e.field == "cotangent"


def test_non_finite_inputs_are_refused():
    e = refused("non_finite", check, Submission.build(F, np.array([1.0, np.inf, 2.0])), LIMITS)
    assert e.status == 422 and e.field == "x"
    e = refused("non_finite", check, Submission.build(F, X, "jvp", tangent=np.array([0, np.nan, 0.0])), LIMITS)
    assert e.field == "tangent"


@pytest.mark.parametrize("code", sorted(CODES))
def test_errors_survive_the_round_trip_to_the_client(code):
    sent = error(code, "why", field="f", reason="r")
    got = from_response(sent.status, sent.to_dict())
    assert type(got) is type(sent) and got.to_dict() == sent.to_dict() and got.status == CODES[code][0]


def test_errors_are_catterms_errors():
    assert isinstance(error("ill_typed", "m"), ct.TermTypeError)
    assert isinstance(error("wire_format", "m"), ct.WireFormatError)
    assert isinstance(error("too_large", "m"), ct.WireFormatError)
    assert isinstance(error("not_found", "m"), LookupError)
    odd = from_response(502, "<html>bad gateway</html>")
    assert odd.status == 502 and "bad gateway" in odd.message
