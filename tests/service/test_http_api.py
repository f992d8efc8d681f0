"""The HTTP API in-process (httpx over ASGI, a real SQLite file, a real local cluster).

Results are checked against the in-process catterms API; bad requests against the documented codes and
statuses, after which the service must still answer.
"""

from __future__ import annotations

import asyncio

import msgpack
import numpy as np
import pytest

import catterms as ct
from catterms import wire
from service import JobCancelled, NotFound, RemoteTermTypeError, Unauthorized
from service.errors import Conflict, ServiceError

pytestmark = pytest.mark.anyio

F = ct.compose(ct.prim("sum"), ct.prim("sin"))  # R^n -> R
X = np.linspace(-1.0, 1.0, 5)


def close(a, b) -> bool:
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(close, a, b))
    return np.allclose(a, b, rtol=1e-12, atol=1e-12)


async def raw(client, method: str, path: str, **kw):
    """An HTTP request bypassing the client's error mapping."""
    return await client._http.request(method, path, **kw)


async def test_grad_job_round_trip(in_process):
    async with in_process() as client:
        job = await client.submit(F, X, mode="grad")
        assert job.info["state"] in ("queued", "running") and not job.info["deduplicated"]
        value, grad = await job.result(timeout=60)
        want_value, want_grad = ct.value_and_grad(F, X)
        assert close(value, want_value) and close(grad, want_grad)
        status = await job.status()
        assert status["state"] == "done" and status["progress"]["done"] == status["progress"]["total"] >= 1
        report = await job.report()
        assert report["tasks"] >= 1 and report["wall_s"] > 0
        assert "tcp://" not in repr(report), "worker addresses never leave the service"
        again = await client.submit(F, X, mode="grad")
        assert again.id == job.id and again.info["deduplicated"]
        assert [j.id for j in await client.jobs()] == [job.id]


@pytest.mark.parametrize("mode", ["value", "jvp", "vjp"])
async def test_other_modes_match_in_process(in_process, mode):
    g = ct.fork(ct.prim("sin"), ct.prim("exp"))  # R^n -> (R^n, R^n)
    x = np.array([0.5, -1.0, 2.0])
    t = np.array([1.0, 0.5, -2.0])
    c = (np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.0, 1.0]))
    want = {"value": (ct.evaluate(g, x), None), "jvp": ct.jvp(g, x, t), "vjp": ct.vjp(g, x, c)}[mode]
    async with in_process() as client:
        job = await client.submit(g, x, mode=mode, tangent=t if mode == "jvp" else None,
                                  cotangent=c if mode == "vjp" else None)
        got = await job.result(timeout=60)
    assert close(got.value, want[0])
    assert got.derivative is None if mode == "value" else close(got.derivative, want[1])


async def test_hvp_jobs_and_derivative_terms_as_value_jobs(in_process):
    v = np.linspace(0.5, -0.5, 5)
    async with in_process() as client:
        got = await (await client.submit(F, X, mode="hvp", tangent=v)).result(timeout=60)
        gterm = await (await client.submit(ct.grad_term(F, X), X, mode="value")).result(timeout=60)
        with pytest.raises(ServiceError, match="mode 'hvp' needs a tangent"):
            await client.submit(F, X, mode="hvp")
    assert close(got.value, ct.grad(F, X)) and close(got.derivative, ct.hvp(F, X, v))
    assert close(gterm.value, ct.grad(F, X)) and gterm.derivative is None


@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp"])
async def test_integer_and_boolean_parts_travel_without_tangents(in_process, mode):
    """A term on (floats, integer indices, a boolean mask): their tangents and cotangents are None, in and out."""
    import catterms.numpy as cnp

    x = (np.linspace(-1.0, 1.0, 6), np.array([0, 2, 2, 5]), np.array([True, False] * 3))
    term = ct.compile(lambda v, i, m: cnp.sum(cnp.where(m, cnp.sin(v), v)[i] ** 2), *x)
    direction = (np.ones(6), None, None) if mode == "jvp" else np.array(1.0)
    want = {"grad": lambda: ct.value_and_grad(term, x), "jvp": lambda: ct.jvp(term, x, direction),
            "vjp": lambda: ct.vjp(term, x, direction)}[mode]()
    async with in_process() as client:
        job = await client.submit(term, x, mode=mode, tangent=direction if mode == "jvp" else None,
                                  cotangent=direction if mode == "vjp" else None)
        value, derivative = await job.result(timeout=60)
    assert close(value, want[0])
    if mode == "jvp":
        assert close(derivative, want[1])
    else:
        assert derivative[1] is None and derivative[2] is None and close(derivative[0], want[1][0])


async def test_not_ready_then_cancel_stops_the_job(in_process, slow_term):
    async with in_process() as client:
        job = await client.submit(slow_term(75), np.array([0.1, 0.2, 0.3]), mode="value")
        r = await raw(client, "GET", f"/v1/jobs/{job.id}/result")
        assert r.status_code == 409 and r.json()["code"] == "not_ready"
        assert r.json()["state"] in ("queued", "running") and set(r.json()["progress"]) == {"done", "total"}
        with pytest.raises(TimeoutError):
            await job.result(timeout=0.2)
        cancelled = await job.cancel()
        assert cancelled["state"] == "cancelled"
        assert (await job.cancel())["state"] == "cancelled", "cancelling twice is harmless"
        with pytest.raises(JobCancelled):
            await job.result(timeout=5)
        quick = await client.submit(F, X, mode="value")
        assert close((await quick.result(timeout=60)).value, ct.evaluate(F, X)), "the runner is free again"
        with pytest.raises(Conflict) as info:
            await quick.cancel()
        assert info.value.code == "job_finished"


async def test_queue_bound_and_per_job_timeout(in_process, slow_term):
    async with in_process(runners=1, queue_size=1, timeout=1.0) as client:
        x = np.array([0.1, 0.2, 0.3])
        running = await client.submit(slow_term(75), x, mode="value")
        for _ in range(100):  # wait (bounded) until the runner has taken it, so the queue is empty
            if (await running.status())["state"] == "running":
                break
            await asyncio.sleep(0.05)
        waiting = await client.submit(slow_term(76), x, mode="value")
        with pytest.raises(ServiceError) as info:
            await client.submit(slow_term(77), x, mode="value")
        assert (info.value.status, info.value.code) == (503, "queue_full")
        for job in (running, waiting):
            with pytest.raises(ServiceError) as info:
                await job.result(timeout=60)
            assert info.value.code == "job_failed" and info.value.extra["reason"] == "timeout"
            status = await job.status()
            assert status["state"] == "failed" and "timeout" in status["error"]["message"]


async def test_bad_requests_get_their_code_and_the_service_keeps_serving(in_process):
    async with in_process(max_body=100_000) as client:
        mp = {"Content-Type": "application/msgpack"}
        good = msgpack.packb({"term": wire.dumps(F), "x": wire.dumps_value(X), "mode": "grad"})
        unknown_prim = msgpack.packb({"format": "catterms/term", "version": 1, "nodes": [["prim", [], "nope", {}]]})
        cases = [
            ("POST", "/v1/jobs", {"content": b"\xc1\xc1", "headers": mp}, 400, "malformed_body"),
            ("POST", "/v1/jobs", {"content": msgpack.packb({"x": good}), "headers": mp}, 400, "bad_field"),
            ("POST", "/v1/jobs", {"content": msgpack.packb({"term": b"junk", "x": wire.dumps_value(X)}), "headers": mp},
             400, "wire_format"),
            ("POST", "/v1/jobs", {"content": msgpack.packb({"term": unknown_prim, "x": wire.dumps_value(X)}),
                                  "headers": mp}, 400, "wire_format"),
            ("POST", "/v1/jobs", {"content": msgpack.packb({"term": wire.dumps(ct.prim("matmul")),
                                                            "x": wire.dumps_value((X, X[:2])), "mode": "value"}),
                                  "headers": mp}, 422, "ill_typed"),
            ("POST", "/v1/jobs", {"content": msgpack.packb({"term": wire.dumps(F),
                                                            "x": wire.dumps_value(np.array([np.nan]))}),
                                  "headers": mp}, 422, "non_finite"),
            ("POST", "/v1/jobs", {"content": b"\x00" * 100_001, "headers": mp}, 413, "too_large"),
            ("POST", "/v1/jobs", {"content": good, "headers": {"Content-Type": "text/csv"}}, 415, "unsupported_media_type"),
            ("GET", "/v1/jobs/0123456789abcdef", {}, 404, "not_found"),
            ("GET", "/v1/jobs?limit=0", {}, 400, "bad_field"),
            ("GET", "/v1/jobs?state=sleeping", {}, 400, "bad_field"),
            ("GET", "/v1/jobs?cursor=x", {}, 400, "bad_field"),
            ("DELETE", "/v1/jobs", {}, 405, "method_not_allowed"),
            ("GET", "/v2/anything", {}, 404, "not_found"),
        ]
        for method, path, kw, status, code in cases:
            r = await raw(client, method, path, **kw)
            assert (r.status_code, r.json()["code"]) == (status, code), (path, r.text)
            assert r.headers["content-type"] == "application/json"
        assert r.json()["message"]
        r = await raw(client, "POST", "/v1/jobs", content=good, headers={**mp, "Content-Length": "999999999"})
        assert r.status_code == 413, "a declared size over the limit is refused before reading"
        with pytest.raises(RemoteTermTypeError) as info:  # the client maps codes to catterms errors
            await client.submit(ct.prim("matmul"), (X, X[:2]), mode="value")
        assert isinstance(info.value, ct.TermTypeError) and info.value.node
        with pytest.raises(NotFound):
            await client.job("ffffffffffffffff")
        job = await client.submit(F, X)
        assert close((await job.result(timeout=60)).derivative, ct.grad(F, X))
        metrics = (await raw(client, "GET", "/metrics")).text
        assert 'catterms_http_errors_total{code="wire_format"} 2.0' in metrics
        assert 'catterms_jobs{state="done"} 1.0' in metrics and "catterms_job_latency_seconds_bucket" in metrics


async def test_json_requests_and_responses(in_process):
    import base64

    async with in_process() as client:
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        body = {"term": b64(wire.dumps(F)), "x": b64(wire.dumps_value(X)), "mode": "value"}
        r = await raw(client, "POST", "/v1/jobs", json=body, headers={"Accept": "application/json"})
        assert r.status_code == 201 and r.headers["content-type"] == "application/json"
        job_id = r.json()["id"]
        r = await raw(client, "GET", f"/v1/jobs/{job_id}/result?wait=30", headers={"Accept": "application/json"})
        assert r.status_code == 200
        assert close(wire.loads_value(base64.b64decode(r.json()["value"])), ct.evaluate(F, X))


async def test_token_guards_everything_but_health(in_process):
    async with in_process(token="s3cret") as client:
        assert (await client.health())["status"] == "ok"
        assert len(await client.jobs()) == 0
        for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            r = await raw(client, "GET", "/v1/jobs", headers=headers)
            assert r.status_code == 401 and r.json()["code"] == "unauthorized"
            assert r.headers["www-authenticate"] == "Bearer"
        client._http.headers.pop("Authorization")
        assert (await raw(client, "GET", "/v1/health")).status_code == 200
        assert (await raw(client, "GET", "/metrics")).status_code == 401
        with pytest.raises(Unauthorized):
            await client.submit(F, X)


async def test_no_token_needed_on_loopback_unless_set(in_process):
    async with in_process() as client:
        assert (await raw(client, "GET", "/v1/jobs")).status_code == 200


async def test_restart_takes_up_what_the_last_process_left(in_process, tmp_path):
    from service.dispatcher import MAX_ATTEMPTS
    from service.store import Store
    from service.submission import Submission

    store = Store(tmp_path / "data")  # the state a killed service leaves behind
    queued, _ = store.add(Submission.build(F, X, "value"))
    interrupted, _ = store.add(Submission.build(F, X, "grad"))
    store.start(interrupted.id)
    doomed, _ = store.add(Submission.build(F, X + 1, "grad"))
    for _ in range(MAX_ATTEMPTS):
        store.requeue(doomed.id)
        store.start(doomed.id)
    too_big, _ = store.add(Submission.build(F, np.zeros(64), "grad"))
    store.close()
    async with in_process(limits=wire.Limits(max_array_elements=32)) as client:
        assert close((await (await client.job(queued.id)).result(timeout=60)).value, ct.evaluate(F, X))
        assert close((await (await client.job(interrupted.id)).result(timeout=60)).derivative, ct.grad(F, X))
        assert (await (await client.job(interrupted.id)).status())["attempts"] == 2
        status = await (await client.job(doomed.id)).status()
        assert status["state"] == "failed" and status["error"]["code"] == "interrupted"
        assert f"{MAX_ATTEMPTS} times" in status["error"]["message"]
        with pytest.raises(ServiceError) as info:  # accepted once, refused by the new limits: failed, with why
            await (await client.job(too_big.id)).result(timeout=60)
        assert info.value.extra["reason"] == "wire_format" and "max_array_elements" in info.value.message
