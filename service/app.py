"""The HTTP API (``/v1``): a Starlette app over the store and the dispatcher.

=======  ===========================  ======================================================================
method   path                         answer
=======  ===========================  ======================================================================
POST     /v1/jobs                     201 the new job (200 and ``deduplicated: true`` for a known submission)
GET      /v1/jobs?limit&cursor&state  ``{jobs, next}``: newest first; pass ``next`` as ``cursor`` for more
GET      /v1/jobs/{id}                the job: state, progress ``{done, total}``, times, error
GET      /v1/jobs/{id}/result?wait=s  ``{value, derivative}`` (wire bytes); waits up to ``s`` seconds
GET      /v1/jobs/{id}/report         the parallel-efficiency report
POST     /v1/jobs/{id}/cancel         the job, cancelled
GET      /v1/health                   ``{status, version, max_body, cluster, workers}``; never needs a token
GET      /metrics                     Prometheus exposition
=======  ===========================  ======================================================================

Each job belongs to the owner of the token that submitted it (:mod:`service.owners`): the job endpoints
show a caller its own jobs only, and another owner's job is answered exactly as a missing one (404),
except to an admin, who sees all.

Request bodies are msgpack or JSON (by Content-Type); responses are msgpack when the Accept header asks for
it and JSON otherwise (:mod:`service.codec`); errors are always
JSON ``{code, message, field?, node?}`` with the status from :data:`service.errors.CODES`. The body size
limit is enforced while reading (a declared Content-Length over it is refused unread), and the term and
values are decoded under :class:`~catterms.wire.Limits` before anything else looks at them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from catterms import wire
from workers.admission import JobLimits
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import codec
from .dispatcher import Dispatcher
from .errors import ServiceError, error
from .metrics import Metrics
from .owners import ANONYMOUS, Caller, Tokens
from .store import CANCELLED, DONE, FAILED, STATES, TERMINAL, AsyncStore, JobRow, Store, Stored
from .submission import Submission
from .version import installed

log = logging.getLogger("catterms.service")

#: Paths anyone may call, token or not (liveness probes).
OPEN_PATHS = frozenset({"/v1/health"})

#: The largest integer a cursor or a Content-Length may be: SQLite's (and a signed 64-bit) maximum.
MAX_INTEGER = (1 << 63) - 1


@dataclass(frozen=True)
class Settings:
    """Everything the API and dispatcher need to know; the CLI's ``serve`` options fill it.

    ``tokens`` (several owners, :mod:`service.owners`) or ``token`` (one owner) require a bearer token on
    every path but :data:`OPEN_PATHS`; with neither, every caller is the one anonymous owner.
    """

    token: str | None = None
    max_body: int = 32 << 20
    limits: wire.Limits = field(default_factory=wire.Limits)
    queue_size: int = 1000
    runners: int = 4
    timeout: float = 600.0
    max_wait: float = 30.0
    tokens: Tokens | None = None
    job_limits: JobLimits = field(default_factory=JobLimits)  # a job's cost: --max-work-s, --max-array-mb, …


class BearerAuth:
    """ASGI middleware: every path but :data:`OPEN_PATHS` needs ``Authorization: Bearer <token>`` with a
    token of ``tokens`` (compared in constant time, see :meth:`Tokens.caller`); the request's
    ``state.caller`` says whose it is."""

    def __init__(self, app: ASGIApp, tokens: Tokens) -> None:
        self.app, self.tokens = app, tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            caller = self.tokens.caller(dict(scope["headers"]).get(b"authorization", b""))
            if caller is None:
                err = error("unauthorized", "a valid bearer token is required (Authorization: Bearer <token>)")
                response = JSONResponse(err.to_dict(), err.status, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def _integer(text: str) -> int | None:
    """``text`` as a decimal integer from 0 to :data:`MAX_INTEGER`, or None: ASCII digits only (``"²"``
    passes :meth:`str.isdigit` but not :func:`int`)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_INTEGER)):
        return None
    value = int(text)
    return value if value <= MAX_INTEGER else None


class Service:
    """One job service over a store: open it (``async with`` or the ASGI lifespan) around serving ``.app``.

    The service owns ``store`` from here on and closes it when it stops.
    """

    def __init__(self, settings: Settings, executor: Any, store: Store) -> None:
        self.settings, self.db, self.metrics = settings, AsyncStore(store), Metrics()
        self.dispatcher = Dispatcher(
            self.db, executor, self.metrics, limits=settings.limits, queue_size=settings.queue_size,
            runners=settings.runners, timeout=settings.timeout, job_limits=settings.job_limits,
        )
        routes = [
            Route("/v1/health", self.health, methods=["GET"]),
            Route("/v1/jobs", self.submit, methods=["POST"]),
            Route("/v1/jobs", self.list_jobs, methods=["GET"]),
            Route("/v1/jobs/{job_id}", self.status, methods=["GET"]),
            Route("/v1/jobs/{job_id}/result", self.result, methods=["GET"]),
            Route("/v1/jobs/{job_id}/report", self.report, methods=["GET"]),
            Route("/v1/jobs/{job_id}/cancel", self.cancel, methods=["POST"]),
            Route("/metrics", self.prometheus, methods=["GET"]),
        ]
        handlers = {ServiceError: self._service_error, HTTPException: self._http_error, Exception: self._crash}
        app: ASGIApp = Starlette(routes=routes, exception_handlers=handlers, lifespan=self._lifespan)
        self.tokens = settings.tokens or (Tokens.single(settings.token) if settings.token else None)
        self.app = BearerAuth(app, self.tokens) if self.tokens else app

    # --- lifecycle -------------------------------------------------------------------------------------

    async def __aenter__(self) -> Service:
        await self.dispatcher.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.dispatcher.stop()
        self.db.close()

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        async with self:
            yield

    # --- helpers ---------------------------------------------------------------------------------------

    @staticmethod
    def _reply(request: Request, body: Any, status: int = 200) -> Response:
        kind = codec.preferred(request.headers.get("accept"))
        return Response(codec.encode(body, kind), status, media_type=kind)

    def _too_large(self, size: int | None) -> ServiceError:
        limit = self.settings.max_body
        received = f"{size} bytes" if size is not None else f"more than {limit} bytes"
        return error("too_large", f"the request body ({received}) is over this service's limit of {limit} bytes "
                     f"({limit / (1 << 20):g} MiB); a service started with a larger --max-body-mb takes it",
                     limit=limit, **({} if size is None else {"size": size}))

    async def _read(self, request: Request) -> bytes:
        """The body, refused with 413 as soon as it is known to exceed the limit."""
        limit = self.settings.max_body
        declared = request.headers.get("content-length")
        if declared is not None:
            size = _integer(declared)
            if size is None:
                raise error("malformed_body", f"Content-Length must be a number of bytes, got {declared[:40]!r}")
            if size > limit:
                raise self._too_large(size)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise self._too_large(None)
            chunks.append(chunk)
        return b"".join(chunks)

    def _caller(self, request: Request) -> Caller:
        """Whom the request speaks for (set by :class:`BearerAuth`; without tokens, the anonymous owner)."""
        return ANONYMOUS if self.tokens is None else request.state.caller

    async def _row(self, request: Request) -> JobRow:
        """The job the path names, if the caller may see it; another owner's job is as missing as no job."""
        job_id = request.path_params["job_id"]
        row = await self.db.get(job_id)
        if row is None or not self._caller(request).sees(row.owner):
            raise error("not_found", f"no job {job_id[:64]!r}")
        return row

    async def _view(self, row: JobRow) -> dict[str, Any]:
        """A job as the API shows it: the stored row plus live progress and phase (``planning``, ``running``,
        ``baseline``; None when this process is not running it)."""
        live = await self.dispatcher.progress(row.id)
        done, total = (row.tasks, row.tasks) if row.state == DONE else live or (0, None)
        phase = self.dispatcher.phase(row.id)
        return {**row.to_dict(), "progress": {"done": done, "total": total}, "phase": phase}

    async def _finished(self, row: JobRow) -> Stored:
        """A done job's result and report; for any other job, the error that says why there is none."""
        if row.state == DONE:
            return await self.db.result(row.id)
        if row.state == FAILED:
            raise error("job_failed", f"job {row.id} failed: {row.error_message}", reason=row.error_code)
        if row.state == CANCELLED:
            raise error("job_cancelled", f"job {row.id} was cancelled")
        view = await self._view(row)
        raise error("not_ready", f"job {row.id} is {row.state}", state=row.state, progress=view["progress"],
                    phase=view["phase"])

    @staticmethod
    def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
        raw = request.query_params.get(name)
        try:
            value = default if raw is None else float(raw)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise error("bad_field", f"{name} must be a number from {low:g} to {high:g}, got {raw[:40]!r}",
                        field=name)
        return value

    # --- endpoints -------------------------------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        """``status`` is ``degraded`` while the cluster is away (``cluster``: the executor's state, read
        without asking the scheduler) or has no workers; the service still answers and keeps jobs queued."""
        executor = self.dispatcher.executor
        cluster, workers = executor.state, executor.seen_workers
        status = "ok" if cluster == "connected" and workers > 0 else "degraded"
        return self._reply(request, {"status": status, "version": installed(), "max_body": self.settings.max_body,
                                     "cluster": cluster, "workers": workers})

    async def submit(self, request: Request) -> Response:
        body = codec.decode(await self._read(request), request.headers.get("content-type"), plain=True)
        sub = Submission.from_body(body)
        with self.dispatcher.admit():
            job = await asyncio.to_thread(self.dispatcher.check, sub)  # the wire limits, the type, the cost
            row, created = await self.db.add(sub, owner=self._caller(request).owner)
            if created:
                self.dispatcher.enqueue(row, job, sub.nbytes)
        self.metrics.submitted.labels(str(not created).lower()).inc()
        return self._reply(request, {**await self._view(row), "deduplicated": not created}, 201 if created else 200)

    async def list_jobs(self, request: Request) -> Response:
        limit = int(self._number(request, "limit", 50, 1, 500))
        cursor = request.query_params.get("cursor")
        before = None if cursor is None else _integer(cursor)
        if cursor is not None and before is None:
            raise error("bad_field", f"cursor must be the 'next' of an earlier page, got {cursor[:40]!r}",
                        field="cursor")
        state = request.query_params.get("state")
        if state is not None and state not in STATES:
            raise error("bad_field", f"state must be one of {', '.join(STATES)}, got {state[:40]!r}", field="state")
        caller = self._caller(request)
        rows = await self.db.page(limit, before, state, None if caller.admin else caller.owner)
        nxt = str(rows[-1].seq) if len(rows) == limit else None
        return self._reply(request, {"jobs": [await self._view(r) for r in rows], "next": nxt})

    async def status(self, request: Request) -> Response:
        return self._reply(request, await self._view(await self._row(request)))

    async def result(self, request: Request) -> Response:
        wait = self._number(request, "wait", 0.0, 0.0, self.settings.max_wait)
        ended = self.dispatcher.ended(request.path_params["job_id"])  # before reading: no missed wake-up
        row = await self._row(request)
        if row.state not in TERMINAL and ended is not None and wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), wait)
            row = await self._row(request)
        stored = await self._finished(row)
        return self._reply(request, {"value": stored.value, "derivative": stored.derivative})

    async def report(self, request: Request) -> Response:
        return self._reply(request, (await self._finished(await self._row(request))).report)

    async def cancel(self, request: Request) -> Response:
        return self._reply(request, await self._view(await self.dispatcher.cancel(await self._row(request))))

    async def prometheus(self, request: Request) -> Response:
        executor = self.dispatcher.executor
        text = self.metrics.render(await self.db.counts(), self.dispatcher.queued, executor.connected,
                                   executor.seen_workers)
        return Response(text, media_type="text/plain; version=0.0.4")

    # --- errors ----------------------------------------------------------------------------------------

    async def _service_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        self.metrics.errors.labels(exc.code).inc()
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return JSONResponse(exc.to_dict(), exc.status, headers=headers)

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            err = error("method_not_allowed", f"{request.method} is not allowed on {request.url.path}")
        else:
            err = error("not_found", f"no such endpoint {request.url.path}")
        return await self._service_error(request, err)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return await self._service_error(request, error("internal", "internal error; see the service's log"))
