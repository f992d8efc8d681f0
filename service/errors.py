"""The service's errors: one table from error code to HTTP status and exception class.

The server answers every failure with a JSON body ``{code, message, field?, node?}`` and the status from
:data:`CODES`; the client turns that body back into the class from the same table. Each class is also the
matching catterms exception where there is one, so ``except ct.TermTypeError`` catches an ill-typed term
whether it was found in-process or by a remote service, and ``err.code``/``err.status`` say which.
"""

from __future__ import annotations

from typing import Any

from catterms.errors import CattermsError, TermTypeError, WireFormatError


class ServiceError(CattermsError):
    """An error answered by (or about) the job service; ``code`` and ``status`` come from :data:`CODES`."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        node: str | None = None,
        status: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.node, self.extra = code, message, field, node, extra
        self.status = status if status is not None else CODES.get(code, (500,))[0]

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.node is not None:
            body["node"] = self.node
        return {**body, **self.extra}


class BadRequest(ServiceError, ValueError):
    """The request itself is malformed: not msgpack/JSON, a missing or ill-typed field, a wrong method."""


class RemoteWireFormatError(ServiceError, WireFormatError):
    """The term or a value in the request failed the wire format's validation (names the node)."""


class TooLarge(RemoteWireFormatError):
    """The request body is over the service's size limit."""


class NonFinite(RemoteWireFormatError):
    """An input holds NaN or infinity."""


class OverLimit(ServiceError, ValueError):
    """The job would cost more than the service allows (``catterms serve --max-work-s`` and the like),
    found from its type before it ran; ``extra`` carries ``limit`` (``work_s``, ``array_mb``,
    ``result_mb`` or ``tasks``), ``value`` (the estimate) and ``max``, and ``node`` where it arises."""


class RemoteTermTypeError(ServiceError, TermTypeError):
    """The term does not accept the input (or tangent, cotangent) it was sent with."""


class Unauthorized(ServiceError, PermissionError):
    """The bearer token is missing or wrong."""


class NotFound(ServiceError, LookupError):
    """No such job (or route)."""


class Conflict(ServiceError):
    """The job is not in a state that allows the request (e.g. cancelling a finished job)."""


class NotReady(Conflict):
    """The job has not finished yet; ``extra`` carries its ``state`` and ``progress``."""


class JobFailed(Conflict):
    """The job ended in failure; ``extra['reason']`` is the failure's code (``evaluation_error``, ``timeout``, …)."""


class JobCancelled(Conflict):
    """The job was cancelled before it finished."""


class Unavailable(ServiceError):
    """The service cannot take the job now (queue full, shutting down); retry later."""


#: code -> (HTTP status, exception class). The single source of truth for both server and client.
CODES: dict[str, tuple[int, type[ServiceError]]] = {
    "malformed_body": (400, BadRequest),
    "bad_field": (400, BadRequest),
    "wire_format": (400, RemoteWireFormatError),
    "unauthorized": (401, Unauthorized),
    "not_found": (404, NotFound),
    "method_not_allowed": (405, BadRequest),
    "not_ready": (409, NotReady),
    "job_finished": (409, Conflict),
    "job_failed": (409, JobFailed),
    "job_cancelled": (409, JobCancelled),
    "too_large": (413, TooLarge),
    "unsupported_media_type": (415, BadRequest),
    "ill_typed": (422, RemoteTermTypeError),
    "non_finite": (422, NonFinite),
    "over_limit": (422, OverLimit),
    "queue_full": (503, Unavailable),
    "unavailable": (503, Unavailable),
    "internal": (500, ServiceError),
}


def error(code: str, message: str, **kw: Any) -> ServiceError:
    """The exception for ``code``, of the class the table gives it."""
    return CODES.get(code, (500, ServiceError))[1](code, message, **kw)


def from_response(status: int, body: Any) -> ServiceError:
    """Rebuild the exception from an error response (any status, any body a proxy might send)."""
    if isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str):
        extra = {k: v for k, v in body.items() if k not in ("code", "message", "field", "node")}
        return error(body["code"], body["message"], field=body.get("field"), node=body.get("node"), **extra)
    return ServiceError("http_error", f"HTTP {status}: {str(body)[:200]}", status=status)
