"""The Python client: :class:`Client` (blocking) and :class:`AsyncClient` (asyncio) share one API.

Each operation is written once, as a generator that yields the HTTP requests it needs and receives their
responses (the sans-IO style of h11 and httpx's transports); a client flavour only drives such
generators, with ``httpx.Client`` or ``httpx.AsyncClient``. So with a :class:`Client` every method below
returns its value, and with an :class:`AsyncClient` the same method returns an awaitable of it::

    with Client("http://127.0.0.1:8765") as client:
        job = client.submit(term, x, mode="grad")
        value, gradient = job.result()

    async with AsyncClient("http://127.0.0.1:8765") as client:
        job = await client.submit(term, x, mode="grad")
        value, gradient = await job.result()

Errors the service answers become the exceptions of :mod:`service.errors`, which are also the matching
catterms exceptions (an ill-typed term raises a ``ct.TermTypeError`` here as it would in-process).
"""

from __future__ import annotations

import abc
import contextlib
import sys
import time
from typing import Any, Generator, Iterator, NamedTuple

import httpx

import catterms as ct
from catterms import wire

from . import codec
from .errors import NotReady, ServiceError, from_response
from .submission import Submission

DEFAULT_URL = "http://127.0.0.1:8765"

#: Seconds per long poll for a result: short while a progress bar wants fresh numbers, long otherwise.
POLL_WITH_BAR, POLL_QUIET = 0.5, 20.0

#: Results come from the service the client chose to trust, and may be larger than any input it accepts
#: (a value or a Jacobian-vector product can outgrow the input): allow arrays of up to 2³¹ elements.
RESULT_LIMITS = wire.Limits(max_bytes=1 << 34, max_array_elements=1 << 31)


class Call(NamedTuple):
    """One HTTP request an operation needs."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: bytes | None = None
    timeout: float | None = None


class JobResult(NamedTuple):
    """A finished job's value and derivative (None for mode ``value``): ``value, grad = job.result()``."""

    value: Any
    derivative: Any


Steps = Generator[Call, httpx.Response, Any]


def _parse(response: httpx.Response) -> Any:
    """A success body, decoded; or the service's error, raised."""
    if response.is_success:
        kind = codec.media_type(response.headers.get("content-type"))
        return codec.decode(response.content, kind) if kind else response.text
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    raise from_response(response.status_code, body)


def _request(call: Call) -> Steps:
    return _parse((yield call))


class _Done(NamedTuple):
    value: Any


def _advance(steps: Steps, response: httpx.Response | None = None) -> Call | _Done:
    """Feed an operation the response to its last request: its next request, or its result."""
    try:
        return steps.send(response)  # send(None) starts a fresh generator
    except StopIteration as stop:
        return _Done(stop.value)


def _request_args(call: Call) -> dict[str, Any]:
    """keyword arguments of ``httpx.Client.request`` (and of the async one) for ``call``."""
    return {
        "method": call.method, "url": call.path, "params": call.params, "content": call.body,
        "timeout": call.timeout or httpx.USE_CLIENT_DEFAULT,
        "headers": {"Content-Type": codec.MSGPACK} if call.body is not None else None,
    }


class Job:
    """A handle on one job of a service; it holds only the id (and the status it was made with)."""

    def __init__(self, client: _Base, job_id: str, info: dict[str, Any] | None = None) -> None:
        self.client, self.id, self.info = client, job_id, info

    def __repr__(self) -> str:
        return f"Job({self.id!r})"

    def status(self) -> Any:
        """The job's state, progress ``{done, total}``, times and error, as a dict."""
        return self.client._drive(_request(Call("GET", f"/v1/jobs/{self.id}")))

    def report(self) -> Any:
        """The parallel-efficiency report of a finished job (a dict; see :mod:`service.report`)."""
        return self.client._drive(_request(Call("GET", f"/v1/jobs/{self.id}/report")))

    def cancel(self) -> Any:
        """Cancel the job (its Dask work stops); returns its status. Cancelling a finished job raises."""
        return self.client._drive(_request(Call("POST", f"/v1/jobs/{self.id}/cancel")))

    def result(self, timeout: float | None = None, progress: bool | None = None) -> Any:
        """Wait for the job and return its :class:`JobResult`.

        ``timeout`` (seconds, None = no limit) raises :class:`TimeoutError` when it passes. ``progress``
        shows a tqdm bar of tasks done / total once the job has taken more than a moment; by default only
        when stderr is a terminal. A failed job raises :class:`~service.errors.JobFailed`.
        """
        show = sys.stderr.isatty() if progress is None else progress
        return self.client._drive(_await_result(self.id, timeout, show))


def _await_result(job_id: str, timeout: float | None, show: bool) -> Steps:
    deadline = None if timeout is None else time.monotonic() + timeout
    bar = None
    try:
        while True:
            wait = POLL_WITH_BAR if show else POLL_QUIET
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            try:
                body = yield from _request(Call("GET", f"/v1/jobs/{job_id}/result", {"wait": wait}, None, wait + 30))
            except NotReady as e:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"job {job_id} did not finish within {timeout:g} s") from None
                if show:
                    bar = _show_progress(bar, job_id, e.extra.get("progress") or {}, e.extra.get("phase"))
                continue
            if bar is not None:
                bar.n = bar.total or bar.n
                bar.refresh()
            decode = lambda data: None if data is None else wire.loads_value(data, RESULT_LIMITS)  # noqa: E731
            return JobResult(decode(body["value"]), decode(body["derivative"]))
    finally:
        if bar is not None:
            bar.close()


def _show_progress(bar: Any, job_id: str, progress: dict[str, Any], phase: str | None = None) -> Any:
    """Tasks done of total, and the phase (``baseline``: all tasks are done, and the serial run is timed)."""
    from tqdm import tqdm

    if bar is None:
        bar = tqdm(desc=f"job {job_id}", unit="task", leave=False)
    if progress.get("total") is not None:
        bar.total = progress["total"]
    bar.n = progress.get("done") or 0
    bar.set_description_str(f"job {job_id}" + (f" ({phase})" if phase else ""), refresh=False)
    bar.refresh()
    return bar


class _Base(abc.ABC):
    """What both client flavours share: every operation, as request generators."""

    def __init__(self, url: str, token: str | None, timeout: float, transport: Any, http: type) -> None:
        headers = {"Accept": codec.MSGPACK}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._http = http(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    @abc.abstractmethod
    def _drive(self, steps: Steps) -> Any:
        """Run an operation's requests; return its result (:class:`Client`) or an awaitable of it."""

    @contextlib.contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turn a failure to talk to the service at all into a :class:`ServiceError` naming its URL."""
        try:
            yield
        except httpx.TransportError as e:
            raise ServiceError("connection_error", f"cannot reach the service at {self.url}: {e}", status=0) from e

    def submit(
        self, term: ct.Term, x: Any, mode: str = "grad", tangent: Any = None, cotangent: Any = None,
        baseline: bool = False,
    ) -> Any:
        """Submit ``term`` at ``x`` (mode ``value``, ``grad``, ``jvp`` or ``hvp`` with ``tangent``, ``vjp`` with
        ``cotangent``; ``baseline=True`` also times the job serially for the efficiency report) → :class:`Job`.

        The fields are checked here as the service checks them (a missing tangent raises
        :class:`~service.errors.BadRequest` before anything is sent).
        """
        fields = Submission.build(term, x, mode, tangent, cotangent, baseline).to_body()
        Submission.from_body(fields)
        return self._drive(self._job_from(Call("POST", "/v1/jobs", body=codec.encode(fields))))

    def job(self, job_id: str) -> Any:
        """Reattach to a job by id (e.g. after a restart) → :class:`Job`; an unknown id raises NotFound."""
        return self._drive(self._job_from(Call("GET", f"/v1/jobs/{job_id}")))

    def jobs(self, state: str | None = None, limit: int = 100) -> Any:
        """The newest ``limit`` jobs (in ``state`` if given) → list of :class:`Job`."""
        return self._drive(self._jobs(state, limit))

    def health(self) -> Any:
        return self._drive(_request(Call("GET", "/v1/health")))

    def _job_from(self, call: Call) -> Steps:
        info = yield from _request(call)
        return Job(self, info["id"], info)

    def _jobs(self, state: str | None, limit: int) -> Steps:
        found: list[Job] = []
        cursor = None
        while len(found) < limit:
            params = {"limit": min(500, limit - len(found))}
            params.update({k: v for k, v in (("state", state), ("cursor", cursor)) if v is not None})
            page = yield from _request(Call("GET", "/v1/jobs", params))
            found += [Job(self, info["id"], info) for info in page["jobs"]]
            cursor = page["next"]
            if cursor is None:
                break
        return found


class Client(_Base):
    """Blocking client: ``Client(url, token=None)``; use as a context manager or call :meth:`close`.

    ``transport`` is an httpx transport for tests (e.g. ``httpx.MockTransport``).
    """

    def __init__(
        self, url: str = DEFAULT_URL, token: str | None = None, *, timeout: float = 30.0, transport: Any = None
    ) -> None:
        super().__init__(url, token, timeout, transport, httpx.Client)

    def _drive(self, steps: Steps) -> Any:
        with contextlib.closing(steps), self._reachable():
            step = _advance(steps)
            while isinstance(step, Call):
                step = _advance(steps, self._http.request(**_request_args(step)))
            return step.value

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    """asyncio client with :class:`Client`'s API; every method returns an awaitable.

    ``transport`` may be ``httpx.ASGITransport(app)`` to talk to a service in the same process.
    """

    def __init__(
        self, url: str = DEFAULT_URL, token: str | None = None, *, timeout: float = 30.0, transport: Any = None
    ) -> None:
        super().__init__(url, token, timeout, transport, httpx.AsyncClient)

    async def _drive(self, steps: Steps) -> Any:
        with contextlib.closing(steps), self._reachable():
            step = _advance(steps)
            while isinstance(step, Call):
                step = _advance(steps, await self._http.request(**_request_args(step)))
            return step.value

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
